package linux

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/linux/rootfs"
	"github.com/agentrun/agentrun/platform/linux/stage"
	"github.com/agentrun/agentrun/platform/ptyrelay"
	"github.com/agentrun/agentrun/platform/steps"
	"github.com/agentrun/agentrun/profiles"
)

// stageProc is a started stage: its process, already in the sandbox's namespaces and in the
// run's cgroup, waiting for its configuration; the descriptors agentrun serves it on; and what
// agentrun made for it, undone by close. Starting it needs nothing of the policy, so it can
// begin while agentrun still resolves the profile (see Sandbox.Warm).
type stageProc struct {
	cmd      *exec.Cmd
	link     *stageLink
	egress   *egressLink
	cg       *runCgroup // nil: no cgroup (rootless without delegation)
	id       string
	root     string // the state root
	lock     *os.File
	rootless bool
	// cloned: the stage is started without namespaces and then cloned into them
	// (cloneIntoNamespaces) instead of Go forking agentrun into them.
	cloned bool
	tty    bool
	bin    stageBinary
	// idmap is the idmapping the run is expected to need (predictedIDMap), which the stage
	// starts making as it starts; nil for none.
	idmap *rootfs.IDMapping
	undo  []func() // run last first by close
	// threadStuck: the keeper's thread could not leave the run's v1 cgroups after cloning the
	// stage (see start), so it must not be unlocked.
	threadStuck bool
	released    chan struct{} // closed by close: the keeper lets its thread go (see launchStage)
	joined      chan error    // the keeper's join, read once by sandboxRun.serve
	limits      chan profiles.Resources
}

// stageIO is the standard I/O the stage, and so the agent, gets.
type stageIO struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func newRunID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "agentrun-" + hex.EncodeToString(b)
}

// startStage starts the stage for a run with state in root: the run's lock (see CleanStale),
// its cgroup when cgroups may be used (limits are set later, before the agent starts: see
// setLimits), the lifeline, and the stage itself, straight into the sandbox's namespaces.
// Rootless, a user namespace maps the user to themselves (agents refuse to run as root), and
// the stage keeps what building the sandbox takes, as ambient capabilities, until it drops
// every one; on amd64, where the host lets it, it is cloned into its namespaces rather than
// forked into them (cloneIntoNamespaces).
//
// The parent-death signal follows the thread that forks, not the process: that thread must
// live as long as the sandbox, and a goroutine that locks a thread and ends takes its thread
// with it (the notifier's and the socket gate's do). So a goroutine of its own, its keeper,
// starts the stage on a locked thread and holds it until close.
func launchStage(root string, cgroups bool, cgroupParent string, idmap *rootfs.IDMapping, sio stageIO) (*stageProc, error) {
	type result struct {
		p   *stageProc
		err error
	}
	c := make(chan result)
	go func() {
		runtime.LockOSThread()
		p, err := startStage(root, cgroups, cgroupParent, idmap, sio)
		if p == nil || !p.threadStuck { // start sets it with every errThreadStuck
			defer runtime.UnlockOSThread()
		} // else the thread ends with this goroutine, and leaves the run's cgroups then
		c <- result{p, err}
		if err != nil {
			return
		}
		// The stage builds its root meanwhile, and waits for this before it goes further.
		p.joined <- p.join()
		<-p.released
	}()
	r := <-c
	return r.p, r.err
}

// join moves the stage into the run's cgroup where it could not be cloned into it (cgroup v1,
// when the keeper's thread could not enter the cgroups: the move waits for an RCU grace period,
// ≈ 10 ms, while agentrun plans the run and the stage builds its root), sets the limits once
// Run has them (after the move: a limit written during it would wait for it), and tells the
// stage to go on.
func (p *stageProc) join() error {
	err := func() error {
		if p.cg != nil {
			if err := p.cg.join(p.cmd.Process.Pid); err != nil {
				return err
			}
		}
		var res profiles.Resources
		select {
		case res = <-p.limits:
		case <-p.released:
			return errors.New("the run ended before it started")
		}
		if res != (profiles.Resources{}) {
			if err := p.cg.setLimits(res); err != nil {
				return limitsError(res, err.Error())
			}
		}
		return p.link.proceed()
	}()
	if err != nil {
		_ = p.cmd.Process.Kill()
	}
	return err
}

// limitsError is the cgroups layer failing to set limits res, with the fix.
func limitsError(res profiles.Resources, fix string) error {
	return &platform.LayerError{Layer: "cgroups", Enforces: "the resource limits (" + res.String() + ")", Fix: fix}
}

// setLimits hands the run's limits to the stage's keeper, which sets them before the stage
// goes on (see join); the run's cgroup must exist when there are any.
func (p *stageProc) setLimits(res profiles.Resources) error {
	if res != (profiles.Resources{}) && p.cg == nil {
		return limitsError(res, "run with sudo (the agent still runs as you), or on cgroup v2 in a cgroup delegated to you")
	}
	p.limits <- res
	return nil
}

// startStage is launchStage's work, on the keeper's locked thread.
func startStage(root string, cgroups bool, cgroupParent string, idmap *rootfs.IDMapping, sio stageIO) (p *stageProc, err error) {
	p = &stageProc{id: newRunID(), root: root, rootless: os.Geteuid() != 0, tty: ptyrelay.IsTerminal(sio.stdin), idmap: idmap, released: make(chan struct{}), joined: make(chan error, 1), limits: make(chan profiles.Resources, 1)}
	defer func() {
		if err != nil {
			p.close()
			p = nil
		}
	}()
	self, err := os.Executable()
	if err != nil {
		return p, fmt.Errorf("finding the agentrun binary: %w", err)
	}
	p.bin = findStage(self, sio.stderr)
	defer p.bin.started()
	p.undo = append(p.undo, func() { _ = os.Remove(root) }) // only once no run uses it
	CleanStale(root)
	if p.lock, err = lockRun(root, p.id, true); err != nil {
		return p, fmt.Errorf("creating the run's lock file: %w", err)
	}
	p.undo = append(p.undo, func() {
		if p.cg != nil && p.cg.remains {
			p.lock.Close() // its file records the cgroup left: the next start's CleanStale retries
			return
		}
		unlockRun(root, p.id, p.lock)
	})
	if cgroups {
		if p.cg, err = newRunCgroup(p.id, cgroupParent); err != nil {
			return p, err
		}
		p.undo = append(p.undo, p.cg.destroy)
		if _, err := p.lock.Write(lockContent(p.cg.dirs)); err != nil {
			return p, fmt.Errorf("recording the run's cgroup: %w", err)
		}
	}
	if p.link, err = newStageLink(); err != nil {
		return p, err
	}
	p.undo = append(p.undo, p.link.Close)
	if p.egress, err = newEgressLink(); err != nil {
		return p, err
	}
	p.undo = append(p.undo, p.egress.Close)
	p.cloned = p.rootless && cloneIntoNamespacesHere()
	p.cmd = p.command(sio)
	err = p.start()
	if p.cloned && err == nil {
		err = p.cloneStage()
	}
	if p.cloned && err != nil && !errors.Is(err, errThreadStuck) {
		// The host would not let it be traced or cloned (a seccomp filter, an LSM): Go forks
		// agentrun into the namespaces instead. Nothing of the first try is left.
		p.cloned = false
		p.cmd = p.command(sio)
		err = p.start()
	}
	if err != nil {
		return p, err
	}
	p.egress.child.Close()
	return p, nil
}

// cloneStage replaces the started stage, stopped at its first instruction, with its clone in
// the sandbox's namespaces (see cloneIntoNamespaces), which becomes p.cmd's process: the
// original is killed and reaped.
func (p *stageProc) cloneStage() error {
	orig := p.cmd.Process
	uid, gid := os.Getuid(), os.Getgid()
	proc, err := cloneIntoNamespaces(orig.Pid, p.namespaces()|unix.CLONE_NEWUSER, func(pid int) error { return writeSelfMaps(pid, uid, gid) }, stageAmbientCaps)
	_ = orig.Kill()
	_, _ = orig.Wait()
	if err != nil {
		return &cloneError{fmt.Errorf("cloning the stage into its namespaces: %w", err)}
	}
	p.cmd.Process = proc
	steps.Step(stepStageCloned)
	return nil
}

// stepStageCloned is the launch step (steps.Env) a rootless stage reaches when it was cloned
// into its namespaces, not forked into them.
const stepStageCloned = "stage cloned into its namespaces"

// errThreadStuck is the keeper's thread left in the run's cgroups (see start).
var errThreadStuck = errors.New("agentrun's thread could not leave the sandbox's cgroups")

// start clones the stage. On cgroup v1 it does so from inside the run's cgroups, so that the
// stage starts there and join has nothing to move (see enterThread); where this thread cannot
// enter them, join moves the stage instead, slower.
func (p *stageProc) start() error {
	var leave func() error
	if p.cg != nil && p.cg.dirFD == nil {
		var err error
		if leave, err = p.cg.enterThread(); errors.Is(err, errThreadStuck) {
			p.threadStuck = true
			return err
		} // on another failure the thread is where it was, and join moves the stage
	}
	err := p.cmd.Start()
	if leave != nil {
		if lerr := leave(); lerr != nil {
			// This thread stays in the run's cgroups: it must end, not go back to Go's pool.
			p.threadStuck = true
			if err == nil {
				return fmt.Errorf("%w: %w", errThreadStuck, lerr)
			}
		} else if err == nil {
			p.cg.stageIn = true
		}
	}
	if err != nil {
		return &cloneError{err}
	}
	return nil
}

// stageAmbientCaps are what a rootless stage needs to build the sandbox: it holds them as
// ambient capabilities until it drops every one.
var stageAmbientCaps = []uintptr{unix.CAP_SYS_ADMIN, unix.CAP_NET_ADMIN, unix.CAP_SETPCAP}

// namespaces are the stage's new namespaces, its user namespace aside.
func (p *stageProc) namespaces() uintptr {
	ns := uintptr(unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWNET)
	if p.cg == nil || p.cg.dirFD != nil {
		ns |= unix.CLONE_NEWCGROUP // on v1 the stage enters one once in its cgroup
	}
	return ns
}

// command is the stage's command line, descriptors and namespaces.
func (p *stageProc) command(sio stageIO) *exec.Cmd {
	cmd := p.bin.command(append(p.link.childFiles(), p.egress.child)...) // 3, 4, 5 (stage.TunFD)
	if p.idmap != nil {
		cmd.Env = append(cmd.Env, stage.IDMapEnv+"="+stage.IDMapValue(*p.idmap))
	}
	if p.tty {
		// The agent's terminal stands for stdin and for each of these that is a terminal;
		// one redirected (to a file, a pipe) the agent gets as it is (see superviseAgent).
		cmd.Stdout, cmd.Stderr = sio.stdout, sio.stderr
	} else {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = sio.stdin, sio.stdout, sio.stderr
	}
	attr := &syscall.SysProcAttr{Cloneflags: p.namespaces(), Pdeathsig: unix.SIGKILL}
	if p.cg != nil && p.cg.dirFD != nil {
		attr.UseCgroupFD, attr.CgroupFD = true, int(p.cg.dirFD.Fd())
	}
	if p.cloned {
		// Started outside them, stopped at its exec, then cloned into them (cloneStage).
		attr.Cloneflags, attr.Ptrace = 0, true
	} else if p.rootless {
		uid, gid := os.Getuid(), os.Getgid()
		attr.Cloneflags |= unix.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}}
		attr.GidMappingsEnableSetgroups = false
		attr.AmbientCaps = stageAmbientCaps
	}
	cmd.SysProcAttr = attr
	return cmd
}

// close ends a stage that has not been waited for (it exits at once: its lifeline closes),
// then undoes what startStage made.
func (p *stageProc) close() {
	if p.cmd != nil && p.cmd.Process != nil && p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
	for i := len(p.undo) - 1; i >= 0; i-- {
		p.undo[i]()
	}
	p.undo = nil
	select {
	case <-p.released:
	default:
		close(p.released)
	}
}
