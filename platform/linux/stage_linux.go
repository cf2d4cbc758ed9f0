package linux

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/landlock-lsm/go-landlock/landlock"
	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"github.com/opencontainers/runc/libcontainer/seccomp"
	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/steps"
)

// IsStage reports whether this process was started as the in-sandbox stage.
func IsStage(args []string) bool { return len(args) > 1 && args[1] == stageArg }

// RunStage is the stage: agentrun starts it in the sandbox's new namespaces, where it builds
// the sandbox (see setupSandbox), confines itself (Landlock, seccomp), starts the agent, and
// stays its PID 1: it forwards signals, reaps orphans, and exits with the agent's status. In
// the Landlock + seccomp tier it confines itself on the host instead. It never returns, and it
// runs from cmd/agentrun's init, on the main thread, before any other goroutine of agentrun's.
func RunStage() {
	// The agent runs as our uid: a dumpable stage would let it write our memory through
	// /proc/1/mem and run code as PID 1.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		stageFail(fmt.Errorf("making the stage non-dumpable: %w", err))
	}
	// The lifeline is agentrun's end of a socket pair: the agent must not inherit it.
	unix.CloseOnExec(lifelineFD)
	sigs := catchSignals()
	f := os.NewFile(stageFD, "stage-config")
	cfg, err := decodeStage(f)
	f.Close()
	if err != nil {
		stageFail(err)
	}
	closeExecFrom(stageFD)
	steps.To(cfg.Steps)
	steps.Step("stage: configuration read")
	var tty, master *os.File
	if cfg.Sandbox != nil {
		if tty, master, err = setupSandbox(cfg); err != nil {
			stageFail(err)
		}
	}
	steps.Step("stage: root built and entered, privileges dropped")
	if !cfg.Audit {
		if err := applyLandlock(cfg); err != nil {
			stageFail(err)
		}
	}
	steps.Step("stage: Landlock applied")
	if cfg.Direct {
		if err := applyDirect(cfg); err != nil {
			stageFail(err)
		}
		// Orphans of the agent become our children, so they can be ended with it.
		_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	}
	if cfg.Sandbox != nil {
		if err := confineAndHandOver(cfg, master); err != nil {
			stageFail(err)
		}
	}
	steps.Step("stage: seccomp loaded, descriptors handed over")
	os.Exit(superviseAgent(cfg, tty, sigs))
}

// confineAndHandOver loads the seccomp filter on this thread (the one that starts the agent)
// and hands agentrun its notification descriptor and the terminal's master, each when there
// is one, in one message.
func confineAndHandOver(cfg *stageConfig, master *os.File) error {
	send := startSender()
	var h handover
	if master != nil {
		h.add(handoverTerminal, int(master.Fd()))
	}
	if cfg.Seccomp != nil {
		fd, err := seccomp.InitSeccomp(cfg.Seccomp.build())
		if err != nil {
			_ = send(handover{})
			return fmt.Errorf("applying the seccomp filter: %w", err)
		}
		if fd >= 0 {
			defer unix.Close(fd)
			h.add(handoverListener, fd)
		}
	}
	if err := send(h); err != nil {
		return fmt.Errorf("handing agentrun the sandbox's descriptors: %w", err)
	}
	if master != nil {
		master.Close()
	}
	return nil
}

func stageFail(err error) {
	fmt.Fprintf(os.Stderr, "agentrun: sandbox stage: %v\n", err)
	os.Exit(125)
}

// Landlock's filesystem rights, as agentrun groups them.
const (
	llRead  = ll.AccessFSReadFile | ll.AccessFSReadDir
	llWrite = ll.AccessFSWriteFile | ll.AccessFSRemoveDir | ll.AccessFSRemoveFile | ll.AccessFSMakeDir |
		ll.AccessFSMakeReg | ll.AccessFSMakeSock | ll.AccessFSMakeFifo | ll.AccessFSMakeSym |
		ll.AccessFSRefer | ll.AccessFSTruncate | ll.AccessFSIoctlDev
	llFileRights = ll.AccessFSExecute | ll.AccessFSWriteFile | ll.AccessFSReadFile | ll.AccessFSTruncate | ll.AccessFSIoctlDev
	// llPerOpen are the rights that make Landlock walk an open file's path to the root on
	// every open, a read-only one too: reading, listing, and truncating (which it checks at
	// open for later ftruncate calls).
	llPerOpen = llRead | ll.AccessFSTruncate
)

// rightsOf is what a pathRule's rights letters grant, on a directory.
func rightsOf(letters string) landlock.AccessFSSet {
	var a landlock.AccessFSSet
	for _, c := range letters {
		switch c {
		case 'r':
			a |= llRead
		case 'w':
			a |= llWrite
		case 'd':
			a |= ll.AccessFSReadDir
		case 'x':
			a |= ll.AccessFSExecute | ll.AccessFSReadFile
		}
	}
	return a
}

// landlockHandled is what the ruleset restricts. In the Landlock + seccomp tier, everything:
// Landlock is the only boundary there. In the namespace tier, everything but llPerOpen: the
// agent's mount view already holds only the policy's paths (denied ones hidden, protected and
// read ones read-only, where truncation fails as well), so Landlock's read rules drew the same
// line again at ≈ 0.9 µs per open at depth 7 (a walk of the path, taking a reference per
// step), a tenth of a file search; it keeps writing, creating, removing, renaming, executing
// and device ioctls, whose opens are rare.
func landlockHandled(namespaces bool) landlock.AccessFSSet {
	all := landlock.AccessFSSet(llRead | llWrite | ll.AccessFSExecute)
	if namespaces {
		return all &^ llPerOpen
	}
	return all
}

// landlockRights maps the rights letters of a pathRule to Landlock access rights, within
// handled.
func landlockRights(r pathRule, handled landlock.AccessFSSet) landlock.AccessFSSet {
	a := rightsOf(r.Rights) & handled
	if a&^llFileRights == 0 {
		return a // rights a file may have too: no need to look at what the path is
	}
	if fi, err := os.Stat(r.Path); err == nil && !fi.IsDir() {
		a &= llFileRights // rights on a file may only be those that apply to files
	}
	return a
}

// applyLandlock restricts the stage, and so the agent it starts, to the policy's paths (see
// landlockHandled), and scopes signals and abstract unix sockets to the sandbox.
func applyLandlock(cfg *stageConfig) error {
	c, err := landlockConfig(cfg.RequireLandlock, 1, "filesystem rules")
	if err != nil {
		return err
	}
	c.HandledAccessFS = landlockHandled(cfg.Sandbox != nil)
	rules := make([]landlock.Rule, 0, len(cfg.Landlock))
	for _, r := range cfg.Landlock {
		if a := landlockRights(r, c.HandledAccessFS); a != 0 {
			rules = append(rules, landlock.PathAccess(a, r.Path).IgnoreIfMissing())
		}
	}
	if err := c.RestrictPaths(rules...); err != nil {
		return fmt.Errorf("applying the Landlock ruleset: %w (agentrun doctor explains; --allow-degraded runs without it)", err)
	}
	if err := c.RestrictScoped(); err != nil && cfg.RequireLandlock {
		return fmt.Errorf("applying Landlock IPC scoping: %w", err)
	}
	return nil
}

// landlockConfig is Landlock up to ABI 7, as much of it as the kernel has: filesystem rules
// from ABI 1 (Linux 5.13), refer 2, truncate 3, TCP 4, ioctl 5, signal and abstract socket
// scoping 6. What a required layer cannot do without, minABI, is an error naming the fix.
func landlockConfig(require bool, minABI int, what string) (landlock.Config, error) {
	if abi, err := ll.LandlockGetABIVersion(); require && (err != nil || abi < minABI) {
		return landlock.Config{}, fmt.Errorf("the Landlock %s need ABI %d; this kernel has %d (agentrun doctor explains; --allow-degraded runs without it)", what, minABI, max(abi, 0))
	}
	return landlock.V7.BestEffort(), nil
}

// killDescendants ends, in the direct tier, what the agent left behind: its process group,
// and every process reparented to the stage (a child subreaper) however it got there.
func killDescendants(agentPgid int) {
	_ = unix.Kill(-agentPgid, unix.SIGKILL)
	killChildren()
}

// killChildren kills and reaps every child of this process, over and over until none is left
// (a child may still fork, or have orphans reparented to us, while we go): this process is a
// child subreaper, so whatever its descendants left running ends up here.
func killChildren() {
	self := strconv.Itoa(os.Getpid())
	for round := 0; round < 50; round++ {
		found := false
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
			if err != nil {
				continue
			}
			// The parent is the second field after the command, which is in parentheses.
			if f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:])); len(f) > 1 && f[1] == self {
				found = true
				_ = unix.Kill(pid, unix.SIGKILL)
				var ws unix.WaitStatus
				_, _ = unix.Wait4(pid, &ws, 0, nil)
			}
		}
		if !found {
			return
		}
	}
}

// applyDirect is what the container would have done, for the direct tier: TCP cut off when
// the policy has no network, and the seccomp filter.
func applyDirect(cfg *stageConfig) error {
	// No core dumps full of secrets, as the container's rlimits say.
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return fmt.Errorf("turning off core dumps: %w", err)
	}
	if cfg.NoNetwork {
		c, err := landlockConfig(cfg.RequireLandlock, 4, "TCP rules (Linux 6.7+)")
		if err != nil {
			return err
		}
		if err := c.RestrictNet(); err != nil {
			return fmt.Errorf("cutting off TCP with Landlock: %w", err)
		}
	}
	if cfg.Seccomp != nil {
		// The filter is loaded on this thread only, and it sends sendmsg to the notifier,
		// which is agentrun, which needs the notification descriptor sent with sendmsg
		// first: a thread that exists before the filter sends it.
		send := startSender()
		fd, err := seccomp.InitSeccomp(cfg.Seccomp.build())
		if err != nil {
			_ = send(handover{})
			return fmt.Errorf("applying the seccomp filter: %w", err)
		}
		var h handover
		h.add(handoverListener, fd)
		if err := send(h); err != nil {
			return fmt.Errorf("handing agentrun the seccomp notification descriptor: %w", err)
		}
		unix.Close(fd)
	}
	return nil
}

// catchSignals ignores job control (signals from the terminal go to the agent's group, not to
// us) and catches the signals superviseAgent relays to the agent, and SIGCHLD. It runs first,
// while the stage waits for its configuration: Go's signal handling starts a thread of its own
// (≈ 0.5 ms, more once seccomp is loaded), which the stage would otherwise spend between being
// confined and starting the agent. A signal that comes before the agent runs waits in the
// channel and is relayed to it then.
func catchSignals() chan os.Signal {
	signal.Ignore(unix.SIGTTOU, unix.SIGTTIN, unix.SIGTSTP)
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGCHLD)
	return sigs
}

// sigsysNote says why the agent was killed by SIGSYS: the seccomp filter allows the native
// architecture's system calls only, and kills a thread that makes one through another ABI
// (the 32-bit int $0x80, x32); its denials are errors, never kills.
const sigsysNote = "agentrun: the agent was killed by SIGSYS: it made a system call through the 32-bit (int $0x80) or x32 ABI, which the sandbox refuses; run a 64-bit build of the program"

// superviseAgent starts the agent and waits for it as an init process must: forwarding the
// signals the host sends (caught in sigs since the stage started), reaping every child, and
// returning the agent's exit status.
func superviseAgent(cfg *stageConfig, tty *os.File, sigs chan os.Signal) int {
	cmd := &exec.Cmd{Path: cfg.Path, Args: cfg.Argv}
	cmd.Env, cmd.Dir = cfg.Env, cfg.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	switch {
	case tty != nil:
		// The agent leads a session whose controlling terminal is the sandbox's own.
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	case cfg.TTY:
		cmd.SysProcAttr.Foreground, cmd.SysProcAttr.Ctty = true, 0
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "agentrun: %v\n", err)
		var execErr *exec.Error
		switch {
		case errors.Is(err, os.ErrNotExist) || errors.As(err, &execErr):
			return 127
		default:
			return 126
		}
	}
	agent := cmd.Process.Pid
	steps.Step("stage: agent started")
	if tty != nil {
		tty.Close()
	}
	go followLifeline(agent, sigs)
	for sig := range sigs {
		if _, ok := sig.(terminateRequest); ok {
			terminateSandbox(cfg.Direct, agent)
			continue
		}
		if sig != unix.SIGCHLD {
			_ = unix.Kill(-agent, sig.(unix.Signal))
			continue
		}
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
			if pid == agent {
				if cfg.Direct {
					if cfg.TTY {
						// Give the terminal back to agentrun's process group.
						_ = unix.IoctlSetPointerInt(0, unix.TIOCSPGRP, unix.Getpgrp())
					}
					// No PID namespace ends what the agent left running: do it here.
					killDescendants(agent)
				}
				if ws.Signaled() {
					if ws.Signal() == unix.SIGSYS {
						fmt.Fprintln(os.Stderr, sigsysNote)
					}
					return 128 + int(ws.Signal())
				}
				return ws.ExitStatus()
			}
		}
	}
	return 125
}
