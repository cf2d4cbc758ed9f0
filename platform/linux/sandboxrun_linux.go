package linux

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/fsplan"
	"github.com/agentrun/agentrun/platform/linux/apparmor"
	"github.com/agentrun/agentrun/platform/linux/fileaudit"
	"github.com/agentrun/agentrun/profiles"
)

// sandboxRun is one run in the namespaced tiers: agentrun makes the run's cgroup and its
// observers, starts the stage once, directly in the sandbox's new namespaces, serves it, and
// removes what it made, in reverse order, however the run ends.
type sandboxRun struct {
	spec         *platform.Spec
	pol          *profiles.Policy
	fs           fsplan.Plan
	stateRoot    string
	withNet      bool
	tmpSize      int64
	cgroupParent string // rootless: the delegated cgroup; "": none, or root's

	id       string
	rootless bool
	self     string
	lock     *os.File
	cg       *runCgroup
	seccomp  *configs.Seccomp
	obs      *fileaudit.Observer
	apparmor string
	undo     []func() // run last first by close
}

func newRunID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "agentrun-" + hex.EncodeToString(b)
}

// prepare makes everything the stage needs before it starts: the run's lock (see CleanStale),
// its cgroup, the seccomp filter and its observer, and the AppArmor profile when it is used.
func (r *sandboxRun) prepare(given layerSet, withAppArmor bool) error {
	var err error
	if r.self, err = os.Executable(); err != nil {
		return fmt.Errorf("finding the agentrun binary: %w", err)
	}
	r.id, r.rootless = newRunID(), os.Geteuid() != 0
	r.undo = append(r.undo, func() { _ = os.Remove(r.stateRoot) }) // only once no run uses it
	CleanStale(r.stateRoot)
	if r.lock, err = lockRun(r.stateRoot, r.id, true); err != nil {
		return fmt.Errorf("creating the run's lock file: %w", err)
	}
	r.undo = append(r.undo, func() { unlockRun(r.stateRoot, r.id, r.lock) })
	if res := r.pol.Resources; res != (profiles.Resources{}) {
		if r.cg, err = newRunCgroup(r.id, res, r.cgroupParent); err != nil {
			return &platform.LayerError{Layer: "cgroups", Enforces: "the resource limits (" + res.String() + ")", Fix: err.Error()}
		}
		r.undo = append(r.undo, r.cg.destroy)
		if _, err := r.lock.Write(lockContent(r.cg.dirs)); err != nil {
			return fmt.Errorf("recording the run's cgroup: %w", err)
		}
	}
	if !given[LayerSeccomp] {
		r.seccomp = seccompConfig(seccompOptions{})
		// Always: the unix socket gate decides connects in every run, with or without events.
		r.obs = fileaudit.Observe(r.seccomp, r.pol, r.spec, r.self)
		r.obs.SetPinned(r.fs.PinnedRules(r.pol))
		r.undo = append(r.undo, r.obs.Close)
	}
	if withAppArmor {
		name, text, err := apparmor.RuntimeProfile(r.pol)
		if err != nil {
			return fmt.Errorf("compiling the AppArmor profile: %w", err)
		}
		prof, err := apparmor.Load(r.stateRoot, name, text)
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

// close undoes prepare and run, last first.
func (r *sandboxRun) close() {
	for i := len(r.undo) - 1; i >= 0; i-- {
		r.undo[i]()
	}
}

// setup is the stage's part: the root it builds, and who it becomes.
func (r *sandboxRun) setup(tty bool) *sandboxSetup {
	resolv := ""
	if r.withNet {
		resolv = resolvConf()
	}
	s := &sandboxSetup{
		Base:          r.stateRoot,
		Ops:           rootOps(r.fs, rootOptions{rootless: r.rootless, withTUN: r.withNet, tmpSize: r.tmpSize}, hostLinks(), resolv),
		SetUser:       !r.rootless,
		UID:           r.spec.UID,
		GID:           r.spec.GID,
		Groups:        r.spec.Groups,
		UnshareCgroup: r.cg != nil && r.cg.dirFD == nil,
		AppArmor:      r.apparmor,
	}
	if s.Groups == nil {
		s.Groups = []int{}
	}
	if tty {
		s.Cols, s.Rows = terminalSize(r.spec.Stdin.(*os.File))
	}
	return s
}

// stageCommand is the stage, started once, straight into the sandbox's namespaces. Rootless,
// a user namespace maps the user to themselves (agents refuse to run as root), and the stage
// keeps, as ambient capabilities until it drops them, what building the sandbox takes.
func (r *sandboxRun) stageCommand(link *stageLink) *exec.Cmd {
	cmd := exec.Command(r.self, stageArg)
	cmd.Env = []string{}
	cmd.ExtraFiles = link.childFiles()
	attr := &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWNET,
		Pdeathsig:  unix.SIGKILL,
	}
	if r.cg == nil || r.cg.dirFD != nil {
		attr.Cloneflags |= unix.CLONE_NEWCGROUP // on v1 the stage enters one once in its cgroup
	}
	if r.cg != nil && r.cg.dirFD != nil {
		attr.UseCgroupFD, attr.CgroupFD = true, int(r.cg.dirFD.Fd())
	}
	if r.rootless {
		uid, gid := os.Getuid(), os.Getgid()
		attr.Cloneflags |= unix.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}}
		attr.GidMappingsEnableSetgroups = false
		attr.AmbientCaps = []uintptr{unix.CAP_SYS_ADMIN, unix.CAP_NET_ADMIN, unix.CAP_SETPCAP}
	}
	cmd.SysProcAttr = attr
	return cmd
}

// run starts the stage, serves it and waits for the agent.
func (r *sandboxRun) run(ctx context.Context, rules []pathRule, given layerSet) (int, error) {
	link, err := newStageLink()
	if err != nil {
		return 0, err
	}
	defer link.Close() // the lifeline stays open until the agent has exited
	tty := isTerminal(r.spec.Stdin)
	sc := newStageConfig(r.spec, tty, rules, given)
	sc.Audit = r.pol.Mode == profiles.ModeAudit
	sc.Seccomp = r.seccomp
	sc.Sandbox = r.setup(tty)
	cmd := r.stageCommand(link)
	if tty {
		cmd.Stdout, cmd.Stderr = r.spec.Stderr, r.spec.Stderr // the stage's own messages
	} else {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = r.spec.Stdin, r.spec.Stdout, r.spec.Stderr
	}
	var egress *egressLink
	if r.withNet {
		sc.Net = newNetConfig()
		if egress, err = newEgressLink(); err != nil {
			return 0, err
		}
		defer egress.Close()
		cmd.ExtraFiles = append(cmd.ExtraFiles, egress.child)
	}
	stopSignals := relaySignals(ctx, tty, func(sig os.Signal) {
		if cmd.Process != nil {
			_ = cmd.Process.Signal(sig)
		}
	})
	defer stopSignals()
	// The parent-death signal follows the thread that forks, not the process: that thread must
	// live as long as the sandbox, and a goroutine that locks a thread and ends takes its
	// thread with it (the notifier's and the socket gate's do).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("starting the sandbox (agentrun doctor explains what this host allows): %w", err)
	}
	link.send(sc)
	if egress != nil {
		egress.child.Close()
	}
	term, err := r.serve(cmd, link, egress, tty)
	if term != nil {
		defer term.restore()
	}
	if err != nil {
		// A stage that could not build the sandbox said why and exits 125.
		_ = cmd.Process.Kill()
		code := exitCode(cmd.ProcessState, cmd.Wait())
		if code == 125 {
			return code, nil
		}
		return 0, err
	}
	werr := cmd.Wait()
	if term != nil {
		term.drain()
	}
	code := exitCode(cmd.ProcessState, werr)
	if code == 128+int(unix.SIGKILL) && r.cg != nil && r.cg.oomKilled() {
		return code, &platform.OOMError{Limit: r.pol.Resources.MemoryBytes, Code: code}
	}
	if code < 0 {
		return 0, fmt.Errorf("waiting for the agent: %w", werr)
	}
	return code, nil
}

// serve answers the stage while it builds the sandbox: the cgroup, then the TUN device, then
// the descriptors it hands over (the seccomp notifications, the terminal).
func (r *sandboxRun) serve(cmd *exec.Cmd, link *stageLink, egress *egressLink, tty bool) (*terminal, error) {
	pid := cmd.Process.Pid
	if r.cg != nil {
		if err := r.cg.join(pid); err != nil {
			return nil, err
		}
	}
	if err := link.proceed(); err != nil {
		return nil, err
	}
	if egress != nil {
		if err := egress.serve(r.pol, r.spec); err != nil {
			return nil, err
		}
	}
	fds, err := link.recvHandover()
	if err != nil {
		return nil, err
	}
	if r.obs != nil {
		f := fds[handoverListener]
		if f == nil {
			return nil, fmt.Errorf("the sandbox's stage sent no seccomp notification descriptor")
		}
		r.obs.Serve(f)
		if err := r.obs.Started(pid); err != nil {
			return nil, err
		}
	}
	if !tty {
		return nil, nil
	}
	term := newTerminal(r.spec.Stdin.(*os.File), r.spec.Stdout)
	if err := term.attach(fds[handoverTerminal]); err != nil {
		return term, err
	}
	return term, nil
}
