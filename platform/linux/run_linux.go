package linux

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/fsplan"
	"github.com/agentrun/agentrun/profiles"
)

// Sandbox runs agents in libcontainer containers.
type Sandbox struct {
	// StateRoot holds the runs' lock files; empty means DefaultStateRoot().
	StateRoot string
	warm      *warmStage
}

// Run starts the agent of spec in a new container and waits for it. The container, its
// cgroup and its files are removed before Run returns, whatever happens.
func (s *Sandbox) Run(ctx context.Context, spec *platform.Spec) (int, error) {
	pol := spec.Policy
	audit := pol.Mode == profiles.ModeAudit
	root := s.root()
	// Before the plan: the state root is one of agentrun's own directories, which the plan
	// hides from the agent, and a path is hidden only if it exists.
	rootErr := prepareStateRoot(root)
	fs := fsplan.Build(pol, fsplan.HostStat)
	if audit {
		fs = fsplan.Audit(fs, pol, fsplan.HostStat, stageDir)
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
	d, err := decideDegrade(layers, pol, fs.ProtectedInWrite(), spec.AllowDegraded, spec.AllowUnprotected)
	for _, l := range d.GivenUp {
		fmt.Fprintf(spec.Stderr, "agentrun: --allow-degraded: giving up %s (%s)\n", l.ID, l.Enforces)
	}
	if err != nil {
		return 0, err
	}
	pol, given := d.Policy, d.Given
	warm := s.takeWarm()
	if d.Direct {
		warm.discard()
		return runDirect(ctx, spec, pol, fs, given)
	}
	if rootErr != nil {
		warm.discard()
		return 0, rootErr
	}
	stage, err := warm.stage()
	if stage == nil {
		if err != nil {
			fmt.Fprintf(spec.Stderr, "agentrun: starting the sandbox early failed (%v); starting it now\n", err)
		}
		if stage, err = launchStage(root, h.CgroupLimits, delegated, stageIO{spec.Stdin, spec.Stdout, spec.Stderr}); err != nil {
			return 0, err
		}
	}
	defer stage.close()
	// Audit mode lets the agent out, recording where, unless --allow-degraded gave that up.
	withNet := !pol.Network.None() || (audit && !given[LayerNetFilter])
	r := &sandboxRun{spec: spec, pol: pol, fs: fs, stage: stage, withNet: withNet, tmpSize: tmp}
	defer r.close()
	if err := r.prepare(given, needed(layers, LayerAppArmor) && !given[LayerAppArmor]); err != nil {
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
