package linux

import (
	"context"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/fsplan"
	"github.com/agentrun/agentrun/platform/linux/apparmor"
	"github.com/agentrun/agentrun/platform/linux/fileaudit"
	"github.com/agentrun/agentrun/platform/linux/kdenials"
	"github.com/agentrun/agentrun/platform/linux/kopens"
	"github.com/agentrun/agentrun/platform/linux/rootfs"
	"github.com/agentrun/agentrun/platform/linux/stage"
	"github.com/agentrun/agentrun/platform/ptyrelay"
	"github.com/agentrun/agentrun/platform/steps"
	"github.com/agentrun/agentrun/profiles"
)

// sandboxRun is one run in the namespaced tiers: agentrun makes the run's observers, gives
// the stage (started once, straight into the sandbox's namespaces: see launchStage) its
// configuration, serves it, and removes what it made, in reverse order, however the run ends.
type sandboxRun struct {
	spec *platform.Spec
	pol  *profiles.Policy
	fs   fsplan.Plan
	// enforceFS is the plan enforce mode would build (fs itself but in audit mode), for the
	// judge of an audit run.
	enforceFS fsplan.Plan
	stage     *stageProc
	withNet   bool
	tmpSize   int64

	// agent, when agentrun runs as root for root, is the unprivileged user the agent runs as.
	agent *agentUser

	watch fileaudit.Scope // what the filter reports, and how the run observes it
	obs   *fileaudit.Observer
	// refusals, in enforce mode where the host lets agentrun load the kernel denial recorder
	// (bpf), reads the sandbox's refused file calls: its denials.
	bpf      bool
	refusals *refusalFeed
	// preload, in audit mode where bpf allows it, is the recorder of the sandbox's reads being
	// loaded since the launch began; opened, once attached, feeds them to the observer
	// (fileaudit.WatchKernelReads).
	preload  *openedLoad
	opened   *openedFeed
	apparmor string
	undo     []func() // run last first by close
	// released is what close started and waits for: releases of kernel objects that take a
	// while and that nothing else waits for.
	released sync.WaitGroup
}

// prepare makes what the stage needs beyond itself: the limits, the seccomp filter and its
// observer, and the AppArmor profile when it is used.
func (r *sandboxRun) prepare(given layerSet, withAppArmor bool) error {
	p := r.stage
	if err := p.setLimits(r.pol.Resources); err != nil {
		return err
	}
	if !given[LayerSeccomp] {
		// Always: the unix socket gate decides connects in every run, with or without events.
		var kreads *kopens.Recorder
		if r.preload != nil {
			var err error
			if kreads, err = r.preload.take(); err != nil {
				fmt.Fprintf(r.spec.Stderr, "agentrun: audit mode: the kernel's recorder of reads could not be loaded (%v); each read waits for agentrun instead (slower; the same events)\n", err)
			}
		}
		r.watch = fileaudit.ScopeOf(r.pol, r.spec, kreads != nil)
		if kreads != nil && r.watch != fileaudit.WatchKernelReads {
			_ = kreads.Close()
		}
		r.obs = fileaudit.Observe(r.pol, r.spec, r.watch, p.bin.path, p.cmd.Process.Pid)
		r.obs.SetPinned(r.fs.PinnedRules(r.pol))
		r.obs.SetWorkingDir(r.spec.Dir)
		r.obs.SetEnforceView(r.enforceFS.Visible)
		r.undo = append(r.undo, r.closeObserver)
		if r.bpf && (r.watch == fileaudit.WatchExecs || r.watch == fileaudit.WatchKernelReads) {
			// Loaded while the stage builds the root; drained before the observer closes, so
			// that its last refusals are judged, and released beside the rest of close.
			r.refusals = startRefusals(p.cmd.Process.Pid, r.watch, r.obs, r.spec.Stderr)
			r.undo = append(r.undo, func() { r.refusals.drain(); r.released.Go(r.refusals.release) })
		}
		if r.watch == fileaudit.WatchKernelReads {
			// Audit mode's reads, attached before the agent runs; drained before the observer
			// closes, as the refusals.
			var err error
			if r.opened, err = startOpened(kreads, p.cmd.Process.Pid, r.obs, r.spec.Stderr); err != nil {
				return err
			}
			r.undo = append(r.undo, r.opened.close)
		}
	}
	if withAppArmor {
		name, text, err := apparmor.RuntimeProfile(r.pol)
		if err != nil {
			return fmt.Errorf("compiling the AppArmor profile: %w", err)
		}
		prof, err := apparmor.Load(p.root, name, text)
		if err != nil {
			return &platform.LayerError{Layer: "apparmor", Enforces: "the policy as an AppArmor profile", Fix: err.Error()}
		}
		r.undo = append(r.undo, prof.Release)
		r.apparmor = name
		if r.spec.Events != nil {
			follower := apparmor.Follow(name, r.spec.Events)
			r.undo = append(r.undo, func() { follower.Close() })
		}
	}
	return nil
}

// close undoes prepare and run, last first, and waits for what it released beside that.
func (r *sandboxRun) close() {
	for i := len(r.undo) - 1; i >= 0; i-- {
		r.undo[i]()
	}
	r.released.Wait()
}

// setup is the stage's part: the root it builds, and who it becomes.
func (r *sandboxRun) setup() *stage.Sandbox {
	p := r.stage
	resolv := ""
	if r.withNet {
		resolv = resolvConf()
	}
	o := rootOptions{rootless: p.rootless, withTUN: r.withNet, tmpSize: r.tmpSize}
	s := &stage.Sandbox{
		Base:          p.root,
		SetUser:       !p.rootless,
		UID:           r.spec.UID,
		GID:           r.spec.GID,
		Groups:        r.spec.Groups,
		UnshareCgroup: p.cg != nil && p.cg.dirFD == nil,
		AppArmor:      r.apparmor,
	}
	if r.agent != nil {
		o.agent, o.home = r.agent, envValue(r.spec.Env, "HOME")
		s.UID, s.GID, s.Groups = agentUID, agentUID, nil
		s.IDMap = &rootfs.IDMapping{OwnerUID: r.spec.UID, OwnerGID: r.spec.GID, UID: agentUID, GID: agentUID}
	}
	s.Ops = rootOps(r.fs, o, hostLinks(), resolv)
	if p.tty {
		s.Cols, s.Rows = ptyrelay.Size(r.spec.Stdin.(*os.File))
	}
	return s
}

// run configures the stage, serves it and waits for the agent.
func (r *sandboxRun) run(ctx context.Context, rules []stage.Rule, given layerSet) (int, error) {
	p := r.stage
	sc, err := newStageConfig(r.spec, p.tty, rules, namespaceFilter(r.watch), given)
	if err != nil {
		return 0, err
	}
	if r.agent != nil {
		sc.Env = setAgentEnv(sc.Env)
	}
	sc.Audit = r.pol.Mode == profiles.ModeAudit
	sc.Sandbox = r.setup()
	if r.agent != nil {
		if err := r.grantUnmappable(sc.Sandbox); err != nil {
			return 0, err
		}
	}
	if r.withNet {
		sc.Net = newNetConfig()
	}
	p.link.send(sc)
	steps.Step("run planned, configuration sent")
	// The relay's first signal.Notify starts Go's signal handling (≈ 1 ms): while the stage
	// builds the root, not before it has its configuration.
	stopSignals := ptyrelay.RelaySignals(ctx, p.tty, func(sig os.Signal) { _ = p.cmd.Process.Signal(sig) })
	defer stopSignals()
	term, err := r.serve()
	if term != nil {
		defer term.Restore()
	}
	if err != nil {
		// A stage that could not build the sandbox said why and exits 125.
		_ = p.cmd.Process.Kill()
		code := platform.ExitCode(p.cmd.ProcessState, p.cmd.Wait())
		if code == 125 {
			return code, nil
		}
		return 0, err
	}
	steps.Step("sandbox ready (descriptors handed over)")
	if term != nil {
		go stage.FollowStops(p.link.lifeW, term.Suspend)
	}
	if r.spec.Started != nil {
		r.spec.Started()
	}
	out := outcomeOf(r.spec)
	stopDeadline := platform.WatchDeadline(r.spec.Deadline, out, func() error { return stage.Terminate(p.link.lifeW) }, func() { _ = p.cmd.Process.Kill() })
	werr := p.cmd.Wait()
	stopDeadline()
	steps.Step("agent and stage exited")
	if out.WantUsage {
		out.Usage = p.cg.usage()
	}
	if term != nil {
		term.Drain()
	}
	code := platform.ExitCode(p.cmd.ProcessState, werr)
	if code == 128+int(unix.SIGKILL) && p.cg != nil && p.cg.oomKilled() {
		return code, &platform.OOMError{Limit: r.pol.Resources.MemoryBytes, Code: code}
	}
	if code < 0 {
		return 0, fmt.Errorf("waiting for the agent: %w", werr)
	}
	return code, nil
}

// serve answers the stage while it builds the sandbox: the TUN device, then the descriptors
// it hands over (the seccomp notifications, the terminal).
func (r *sandboxRun) serve() (*ptyrelay.Terminal, error) {
	p := r.stage
	if r.withNet {
		if err := p.egress.serve(r.pol, r.spec); err != nil {
			return nil, err
		}
	}
	if err := <-p.joined; err != nil {
		return nil, err
	}
	fds, err := p.link.recvHandover()
	if err != nil {
		return nil, err
	}
	if r.obs != nil {
		f := fds[stage.HandoverListener]
		if f == nil {
			return nil, fmt.Errorf("the sandbox's stage sent no seccomp notification descriptor")
		}
		if r.refusals != nil {
			// The agent's first exec waits for the notifications to be served: by then
			// the recorder is attached.
			r.refusals.wait()
		}
		if r.opened != nil {
			var w *kdenials.Watcher
			if r.refusals != nil {
				w = r.refusals.w // nil where it could not be loaded
			}
			if err := r.opened.attach(w); err != nil {
				return nil, err
			}
		}
		r.obs.Serve(f)
		if err := r.obs.Started(); err != nil {
			return nil, err
		}
	}
	if !p.tty {
		return nil, nil
	}
	term := ptyrelay.New(r.spec.Stdin.(*os.File), ptyrelay.OutputOf(r.spec.Stdout, r.spec.Stderr))
	return term, term.Attach(fds[stage.HandoverTerminal])
}

// closeObserver ends the observer and says what it could not judge: the programs the agent ran
// that were not read for a #! line (fileaudit's script reader).
func (r *sandboxRun) closeObserver() {
	r.obs.Close()
	if n := r.obs.UnreadScripts(); n > 0 {
		fmt.Fprintf(r.spec.Stderr, "agentrun: %s of the programs the sandbox ran were not read for a #! line (more came than agentrun reads at once, or the run ended first): an interpreter they name was not judged, and is not recorded if it was refused\n", display.Thousands(int(n)))
	}
}
