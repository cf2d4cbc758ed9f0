// Package platform defines what every per-OS sandbox offers to the launcher. Each backend
// (platform/linux, platform/darwin, platform/windows) compiles a profiles.Policy to its
// host's mechanisms; a host without one gets ErrUnsupported.
package platform

import (
	"context"
	"errors"
	"io"

	"github.com/agentrun/agentrun/profiles"
)

// ErrUnsupported means this host has no sandbox backend in this build.
var ErrUnsupported = errors.New("no sandbox backend for this operating system in this build")

// Spec is one agent to run under a policy.
type Spec struct {
	Policy    *profiles.Policy
	Command   []string // Command[0] is an absolute path
	Workspace string
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
}

// Sandbox runs a Spec under its host's confinement and returns the agent's exit status.
type Sandbox interface {
	Run(ctx context.Context, spec *Spec) (exitCode int, err error)
}

// New returns the sandbox for this host. Until a backend is registered for the host, it
// returns ErrUnsupported.
func New() (Sandbox, error) {
	if newSandbox == nil {
		return nil, ErrUnsupported
	}
	return newSandbox()
}

// newSandbox is set by the build's backend.
var newSandbox func() (Sandbox, error)
