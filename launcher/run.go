package launcher

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/agentrun/agentrun/platform"
)

// Stdio is where the agent's standard streams go.
type Stdio struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Run starts the plan's agent in the host's sandbox and returns its exit status.
func Run(ctx context.Context, plan *Plan, stdio Stdio, allowDegraded bool) (int, error) {
	sb, err := newSandbox()
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNoLauncher, err)
	}
	inv := CurrentInvoker()
	uid, gid, groups := inv.UID, inv.GID, inv.Groups
	if os.Geteuid() != 0 {
		// Without privileges the agent runs as root of its own user namespace, which maps
		// to this user (see platform/linux).
		uid, gid, groups = 0, 0, nil
	}
	env := AgentEnv(plan.Policy, os.Environ())
	if inv.Sudo {
		env = setEnv(env, "HOME", inv.Home, "USER", inv.Name, "LOGNAME", inv.Name)
	}
	spec := &platform.Spec{
		Policy:        plan.Policy,
		Path:          plan.Path,
		Command:       plan.Command,
		Env:           env,
		Dir:           workingDir(plan),
		UID:           uid,
		GID:           gid,
		Groups:        groups,
		Stdin:         stdio.Stdin,
		Stdout:        stdio.Stdout,
		Stderr:        stdio.Stderr,
		AllowDegraded: allowDegraded,
	}
	missing := missingProtected(plan.Policy)
	code, err := sb.Run(ctx, spec)
	quarantine(missing, stdio.Stderr)
	return code, err
}

// workingDir is the current directory when the policy lets the agent see it, else the
// workspace.
func workingDir(plan *Plan) string {
	cwd, err := os.Getwd()
	if err != nil {
		return plan.Workspace
	}
	if real, err := filepath.EvalSymlinks(cwd); err == nil {
		cwd = real
	}
	fs := plan.Policy.Filesystem
	for _, rules := range [][]string{paths(fs.Write), paths(fs.Read), paths(fs.Protect)} {
		for _, p := range rules {
			if cwd == p || strings.HasPrefix(cwd, p+"/") {
				return cwd
			}
		}
	}
	return plan.Workspace
}
