package appcontainer

import (
	"context"
	"os"

	"golang.org/x/sys/windows"
)

type Profile struct {
	Name string
	SID  *windows.SID
}

func OpenProfile(name, displayName, description string) (*Profile, error) { return nil, nil }
func DeriveSID(name string) (*windows.SID, error)                          { return nil, nil }
func (p *Profile) Folder() (string, error)                                  { return "", nil }

type Options struct {
	Profile               *Profile
	Capabilities          []string
	LessPrivileged        bool
	Path                  string
	Args                  []string
	Env                   []string
	Dir                   string
	Limits                Limits
	Stdin, Stdout, Stderr *os.File
	Console               *Console
}
type Process struct{}

func Start(o *Options) (*Process, error)  { return nil, nil }
func (p *Process) Wait() (uint32, error)  { return 0, nil }
func (p *Process) Interrupt() error       { return nil }
func (p *Process) Kill() error            { return nil }
func (p *Process) LimitHit() string       { return "" }
func (p *Process) Close() error           { return nil }

type Console struct{}

func NewConsole(cols, rows int) (*Console, error) { return nil, nil }
func (c *Console) Close() error                   { return nil }
func RelayTerminal(ctx context.Context, c *Console, in, out *os.File) func() {
	return func() {}
}
