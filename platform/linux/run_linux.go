package linux

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/fsplan"
	"github.com/agentrun/agentrun/platform/linux/kopens"
	"github.com/agentrun/agentrun/profiles"
)

// Sandbox runs agents in sandboxes agentrun builds itself (see stage.Run), or in the Landlock +
// seccomp tier where namespaces cannot be had.
type Sandbox struct {
	// StateRoot holds the runs' lock files; empty means DefaultStateRoot().
	StateRoot string
	warm      *warmStage
}

// Run starts the agent of spec in a new sandbox and waits for it. The sandbox and its cgroup
// are gone before Run returns, whatever happens.
func (s *Sandbox) Run(ctx context.Context, spec *platform.Spec) (int, error) {
	warm := s.takeWarm()
	defer warm.discard() // unless taken
	lh := warm.host()
	if lh == nil {
		lh = s.launchHost()
	}
	if lh.note != "" {
		fmt.Fprintf(spec.Stderr, "agentrun: %s\n", lh.note)
	}
	pol := spec.Policy
	var preload *openedLoad
	if pol.Mode == profiles.ModeAudit && lh.h.BPF && kopens.Supported && !spec.Trace && spec.Events != nil {
		// Audit mode's recorder of reads as root, from now: it takes longer to load than the
		// stage to start.
		preload = preloadOpened()
		defer preload.release()
	}
	// After the state root is made: it is one of agentrun's own directories, which the plan
	// hides from the agent, and a path is hidden only if it exists.
	fs := fsplan.Build(pol, fsplan.HostStat)
	enforceFS := fs
	if pol.Mode == profiles.ModeAudit {
		fs = fsplan.Audit(fs, pol, fsplan.HostStat, stageDir, envValue(spec.Env, "HOME"))
	}
	tmp := tmpSize(pol) // before --allow-degraded may give up the limits: the bound holds anyway
	pol = withDefaultLimits(pol, lh.h, spec.Stderr)
	for {
		layers := layersFor(pol, lh.h, fs)
		d, err := decideDegrade(layers, pol, fs.ProtectedInWrite(), spec.AllowDegraded, spec.AllowUnprotected)
		for _, l := range d.GivenUp {
			fmt.Fprintf(spec.Stderr, "agentrun: --allow-degraded: giving up %s (%s)\n", l.ID, l.Enforces)
		}
		if err != nil {
			return 0, err
		}
		recordLaunch(outcomeOf(spec), layers, d)
		if d.Direct {
			return runDirect(ctx, spec, d.Policy, fs, d.Given)
		}
		if lh.rootErr != nil {
			return 0, lh.rootErr
		}
		stage, err := warm.stage()
		if stage == nil && !refusedUserNS(err) {
			stage, err = launchStage(lh.root, lh.h.CgroupLimits, lh.delegated, predictedIDMap(lh.h), stageIO{spec.Stdin, spec.Stdout, spec.Stderr})
		}
		if refusedUserNS(err) && lh.h.UserNS && !lh.h.Root {
			// The settings allowed a user namespace and the kernel refused one: decide again
			// as a host without.
			var errno unix.Errno
			errors.As(err, &errno)
			lh.h.UserNS, lh.h.UserNSWhy = false, userNSRefused(errno)
			continue
		}
		if err != nil {
			return 0, err
		}
		defer stage.close()
		var agent *agentUser
		if agentUnprivileged(lh.h) && spec.UID == 0 {
			if agent, err = newAgentUser(envValue(spec.Env, "HOME"), d.Policy); err != nil {
				return 0, err
			}
		}
		r := &sandboxRun{agent: agent, spec: spec, pol: d.Policy, fs: fs, enforceFS: enforceFS, stage: stage, tmpSize: tmp, bpf: lh.h.BPF, preload: preload,
			// Audit mode lets the agent out, recording where, unless --allow-degraded gave that up.
			withNet: !d.Policy.Network.None() || (pol.Mode == profiles.ModeAudit && !d.Given[LayerNetFilter])}
		defer func() {
			// The stage is gone (or killed now); what the run made and what the stage made
			// are undone side by side.
			var stageGone sync.WaitGroup
			stageGone.Go(stage.close)
			r.close()
			stageGone.Wait()
		}()
		if err := r.prepare(d.Given, needed(layers, LayerAppArmor) && !d.Given[LayerAppArmor]); err != nil {
			return 0, err
		}
		return r.run(ctx, landlockRules(d.Policy, fs), d.Given)
	}
}

// launchHost is what a launch needs to know of the host before the policy: its facts, the
// state root (made), and rootless the delegated cgroup the run's goes beneath.
type launchHost struct {
	h         Host
	root      string
	rootErr   error
	delegated string
	note      string // for stderr: why the delegated cgroup cannot be used
}

func (s *Sandbox) launchHost() *launchHost {
	l := &launchHost{h: probeHost(false), root: s.root()}
	l.rootErr = prepareStateRoot(l.root)
	if !l.h.Root && l.h.CgroupLimits {
		var err error
		if l.delegated, err = prepareDelegated(); err != nil {
			l.h.CgroupLimits = false
			l.note = fmt.Sprintf("the delegated cgroup cannot be used: %v", err)
		}
	}
	return l
}

// refusedUserNS reports whether err is the kernel refusing the stage's namespaces (a seccomp
// filter, a security module or a limit), which probeHost(false) could not foresee.
func refusedUserNS(err error) bool {
	var ce *cloneError
	if !errors.As(err, &ce) {
		return false
	}
	for _, e := range []error{unix.EPERM, unix.EACCES, unix.ENOSPC, unix.EUSERS, unix.EINVAL} {
		if errors.Is(ce.err, e) {
			return true
		}
	}
	return false
}

// cloneError is the stage's start failing: the clone into its namespaces.
type cloneError struct{ err error }

func (e *cloneError) Error() string {
	return fmt.Sprintf("starting the sandbox (agentrun doctor explains what this host allows): %v", e.err)
}

func (e *cloneError) Unwrap() error { return e.err }
