package linux

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
)

// Sandbox runs agents in libcontainer containers.
type Sandbox struct {
	// StateRoot holds the containers' state; empty means DefaultStateRoot().
	StateRoot string
}

func newID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "agentrun-" + hex.EncodeToString(b)
}

// Run starts the agent of spec in a new container and waits for it. The container, its
// cgroup and its files are removed before Run returns, whatever happens.
func (s *Sandbox) Run(ctx context.Context, spec *platform.Spec) (int, error) {
	pol := spec.Policy
	audit := pol.Mode == profiles.ModeAudit
	root := s.StateRoot
	if root == "" {
		root = DefaultStateRoot()
	}
	// Before the plan: the state root is one of agentrun's own directories, which the plan
	// hides from the agent, and a path is hidden only if it exists.
	rootErr := prepareStateRoot(root)
	fs := planFilesystem(pol, hostStat)
	if audit {
		fs = auditFilesystem(fs, pol, hostStat)
	}
	h := ProbeHost()
	var delegated string // rootless: the delegated cgroup the container's goes beneath
	if !h.Root && h.CgroupLimits {
		var err error
		if delegated, err = prepareDelegated(); err != nil {
			h.CgroupLimits = false
			fmt.Fprintf(spec.Stderr, "agentrun: the delegated cgroup cannot be used: %v\n", err)
		}
	}
	tmp := tmpSize(pol) // before --allow-degraded may give up the limits: the bound holds anyway
	pol = withDefaultLimits(pol, h, spec.Stderr)
	layers := layersFor(pol, h, fs)
	given := map[string]bool{}
	for _, l := range missingLayers(layers) {
		if !spec.AllowDegraded {
			return 0, &platform.LayerError{Layer: l.Name, Enforces: l.Enforces, Fix: l.Fix, Degraded: l.Degraded}
		}
		given[l.Name] = true
		fmt.Fprintf(spec.Stderr, "agentrun: --allow-degraded: giving up %s (%s)\n", l.Name, l.Enforces)
	}
	if given["cgroups"] || given["network filter"] {
		p := *pol
		if given["cgroups"] {
			p.Resources = profiles.Resources{}
		}
		if given["network filter"] {
			p.Network = profiles.NetworkPolicy{}
		}
		pol = &p
	}
	if audit && (given["namespaces"] || given["seccomp"]) {
		return 0, fmt.Errorf("audit mode records file and exec accesses through the container's seccomp notifications, and this host cannot give them (see agentrun doctor); run in enforce mode with --allow-degraded instead")
	}
	if given["exec deny"] {
		return 0, fmt.Errorf("exec.deny (%s) cannot be enforced in the Landlock + seccomp tier: Landlock checks execve only, and the dynamic loader (ld.so PROGRAM) would run a denied program; allow user namespaces (see agentrun doctor) or remove exec.deny from the profile", pol.Exec.Deny[0].Path)
	}
	if given["namespaces"] {
		if held := protectedInWrite(fs); len(held) > 0 && !spec.AllowUnprotected {
			return 0, &UnprotectedError{Path: held[0], Count: len(held), Fix: layers[0].Fix} // layers[0] is namespaces
		}
		return runDirect(ctx, spec, pol, fs, given)
	}
	if rootErr != nil {
		return 0, rootErr
	}
	// Audit mode lets the agent out, recording where, unless --allow-degraded gave that up.
	withNet := !pol.Network.None() || (audit && !given["network filter"])
	r := &sandboxRun{spec: spec, pol: pol, fs: fs, stateRoot: root, withNet: withNet, tmpSize: tmp, cgroupParent: delegated}
	defer r.close()
	if err := r.prepare(given, needed(layers, "apparmor") && !given["apparmor"]); err != nil {
		return 0, err
	}
	return r.run(ctx, landlockRules(pol, fs), given)
}

// exitCode is the agent's status as a shell reports it: its exit code, or 128+N when
// killed by signal N; -1 when there is none.
func exitCode(state *os.ProcessState, err error) int {
	var exitErr *exec.ExitError
	if state == nil && errors.As(err, &exitErr) {
		state = exitErr.ProcessState
	}
	if state == nil {
		return -1
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return state.ExitCode()
}
