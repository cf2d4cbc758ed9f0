package cli

import (
	"errors"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/launcher"
	"github.com/agentrun/agentrun/platform"
)

// NamedBackend is a sandbox backend other than the host's, chosen by name with --backend
// (agentrun --backend wsb -- CMD). The program's main passes those its build has.
type NamedBackend struct {
	Name    string
	Backend platform.Backend
}

// backendFlag is the flag of the run and of doctor that chooses a named backend.
func backendFlag(named []NamedBackend) cli.Flag {
	usage := "use the sandbox backend `NAME` instead of this host's own"
	if names := backendNames(named); len(names) > 0 {
		usage += ": " + strings.Join(names, ", ")
		for _, n := range names {
			if n == "wsb" {
				usage += " (wsb: a throw-away Windows Sandbox VM, on Windows; --dry-run shows its layers anywhere)"
			}
		}
	}
	return &cli.StringFlag{Name: "backend", Usage: usage}
}

func backendNames(named []NamedBackend) []string {
	names := make([]string, len(named))
	for i, n := range named {
		names[i] = n.Name
	}
	sort.Strings(names)
	return names
}

// chooseBackend is the backend --backend NAME names: the host's when name is empty.
func chooseBackend(host platform.Backend, named []NamedBackend, name string) (platform.Backend, error) {
	if name == "" {
		return host, nil
	}
	for _, n := range named {
		if n.Name == name {
			return n.Backend, nil
		}
	}
	names := backendNames(named)
	if len(names) == 0 {
		return nil, usageError("leave out --backend: this build runs agents only under this host's own sandbox", "--backend %q: this build has no other backend", name)
	}
	return nil, usageError("write --backend "+strings.Join(names, " or --backend ")+", or leave it out for this host's own sandbox", "--backend %q is not a backend of this build (it has %s)", name, strings.Join(names, ", "))
}

// usableBackend is the named backend a run (not a dry run) launches, refused with its
// reason when it cannot run on this host: the wsb backend off Windows, or with Windows
// Sandbox not enabled.
func usableBackend(host platform.Backend, named []NamedBackend, name string) (platform.Backend, error) {
	b, err := chooseBackend(host, named, name)
	if err != nil {
		return b, err
	}
	if name == "" {
		// Before the profiles are read: a host that cannot run agents here at all (inside
		// an agentrun sandbox) says so, not what it could not read on the way.
		if err := b.Probe(); err != nil && !errors.Is(err, platform.ErrUnsupported) {
			return nil, &exitError{code: launcher.ExitError, msg: err.Error(), hint: "agentrun doctor says what this host offers"}
		}
		return b, nil
	}
	if err := b.Probe(); err != nil {
		return nil, &exitError{code: launcher.ExitError, msg: err.Error(), hint: "agentrun doctor --backend " + name + " says what this host offers; agentrun --dry-run --backend " + name + " -- CMD shows what a run would enforce"}
	}
	return b, nil
}
