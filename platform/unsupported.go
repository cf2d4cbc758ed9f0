package platform

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/agentrun/agentrun/profiles"
)

// Unsupported is the Backend of a host this build has no sandbox for: it runs nothing and
// says so.
func Unsupported() Backend { return unsupported{} }

type unsupported struct{}

func (unsupported) Run(context.Context, *Spec) (int, error)     { return 0, ErrUnsupported }
func (unsupported) Probe() error                                { return ErrUnsupported }
func (unsupported) Layers(*profiles.Policy) []Layer             { return nil }
func (unsupported) Targets() []Target                           { return nil }
func (unsupported) RuntimeDirs() []string                       { return nil }
func (unsupported) Warm(io.Reader, io.Writer, io.Writer) func() { return func() {} }

func (unsupported) Doctor(w io.Writer) error {
	_, err := fmt.Fprintf(w, "agentrun doctor\n  %s: no sandbox backend in this build; agentrun -- CMD refuses to run\n", runtime.GOOS)
	return err
}

func (unsupported) Setup() ([]string, error) {
	return []string{runtime.GOOS + ": nothing to set up in this build"}, nil
}
