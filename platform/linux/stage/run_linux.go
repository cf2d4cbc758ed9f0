package stage

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/rootfs"
	"github.com/agentrun/agentrun/platform/steps"
)

// Is reports whether a process with args was started as the stage.
func Is(args []string) bool { return len(args) > 1 && args[1] == Arg }

// Run is the stage: agentrun starts it in the sandbox's new namespaces, where it builds the
// sandbox (see setupSandbox), confines itself (Landlock, seccomp), starts the agent, and stays
// its PID 1: it forwards signals, reaps orphans, and exits with the agent's status. In the
// Landlock + seccomp tier it confines itself on the host instead. It never returns. It locks
// the calling goroutine to its thread, which it confines and from which it starts the agent;
// nothing else of the process may run before it (agentrun runs it from an init function,
// agentrun-stage from main).
func Run() {
	// Before the lock: Go then starts the threads of its signal handling directly, not through
	// its template thread (≈ 1.5 ms less on a busy machine). Run runs from an init function,
	// so the runtime keeps this goroutine on the main thread meanwhile.
	sigs := catchSignals()
	runtime.LockOSThread()
	setName()
	steps.Step("stage: running") // only under a benchmark: agentrun passes steps.Env on
	// The agent runs as our uid: a dumpable stage would let it write our memory through
	// /proc/1/mem and run code as PID 1.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		stageFail(fmt.Errorf("making the stage non-dumpable: %w", err))
	}
	// The lifeline is agentrun's end of a socket pair: the agent must not inherit it.
	unix.CloseOnExec(LifelineFD)
	var pending *rootfs.Pending
	if m, ok := idmapOf(os.Getenv(IDMapEnv)); ok {
		pending = rootfs.StartIDMap(m) // beside the configuration's reading; Build takes it
	}
	f := os.NewFile(ConfigFD, "stage-config")
	cfg, err := decode(f)
	f.Close()
	if err != nil {
		stageFail(err)
	}
	closeExecFrom(ConfigFD)
	steps.Step("stage: configuration read")
	var tty, master *os.File
	if cfg.Sandbox != nil {
		if tty, master, err = setupSandbox(cfg, pending); err != nil {
			stageFail(err)
		}
	} else {
		pending.Close()
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
	// agentrun waits for the handover of a sandbox, and of a direct tier with a filter.
	if cfg.Sandbox != nil || cfg.Seccomp != nil {
		if err := confineAndHandOver(cfg, master); err != nil {
			stageFail(err)
		}
	}
	steps.Step("stage: seccomp loaded, descriptors handed over")
	os.Exit(superviseAgent(cfg, tty, sigs))
}

// confineAndHandOver loads the seccomp filter on this thread (the one that starts the agent)
// and hands agentrun its notification descriptor and the terminal's master, each when there
// is one, in one message. The filter sends sendmsg to agentrun, which can answer only once it
// has the descriptor: a thread that exists before the filter (startSender) sends it.
func confineAndHandOver(cfg *Config, master *os.File) error {
	send := startSender()
	var h handover
	if master != nil {
		h.add(HandoverTerminal, int(master.Fd()))
	}
	if cfg.Seccomp != nil {
		fd, err := cfg.Seccomp.Load() // compiled by agentrun: the stage needs no libseccomp
		if err != nil {
			_ = send(handover{})
			return fmt.Errorf("applying the seccomp filter: %w", err)
		}
		if fd >= 0 {
			defer unix.Close(fd)
			h.add(HandoverListener, fd)
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

// catchSignals catches the signals superviseAgent relays to the agent, SIGCHLD, and job
// control's, which never stop the stage (superviseAgent says which it relays): caught, not
// ignored, as an ignored signal stays ignored in the agent. It runs first,
// while the stage waits for its configuration: Go's signal handling starts a thread of its own
// (≈ 0.5 ms, more once seccomp is loaded), which the stage would otherwise spend between being
// confined and starting the agent. A signal that comes before the agent runs waits in the
// channel and is relayed to it then.
func catchSignals() chan os.Signal {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGCHLD,
		unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU, unix.SIGCONT)
	return sigs
}

// sigsysNote says why the agent was killed by SIGSYS: the seccomp filter allows the native
// architecture's system calls only, and kills a thread that makes one through another ABI
// (the 32-bit int $0x80, x32); its denials are errors, never kills.
const sigsysNote = "agentrun: the agent was killed by SIGSYS: it made a system call through the 32-bit (int $0x80) or x32 ABI, which the sandbox refuses; run a 64-bit build of the program"

// superviseAgent starts the agent and waits for it as an init process must: forwarding the
// signals the host sends (caught in sigs since the stage started), reaping every child,
// relaying the agent's stops (see agentStopped), and returning the agent's exit status.
//
// The agent leads a process group of its own, in the stage's session when tty (the sandbox's
// own terminal, see leadSession), in the user's in the direct tier, and the stage makes it the
// terminal's foreground group once it runs (giveTerminal). Not before: only a child that
// ignores SIGTTOU could take the terminal itself while in the background, and an ignored
// signal stays ignored through exec: the agent and everything it ran could not be stopped.
func superviseAgent(cfg *Config, tty *os.File, sigs chan os.Signal) int {
	cmd := &exec.Cmd{Path: cfg.Path, Args: cfg.Argv}
	cmd.Env, cmd.Dir = cfg.Env, cfg.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	term := -1 // the agent's terminal
	switch {
	case tty != nil:
		// The terminal stands for the user's where it was one: a redirected stdout or stderr
		// (agentrun -- git diff > patch) stays as it was, not a terminal's output (CRLF line
		// ends, the two streams in one, colours).
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
		if !isTerminal(1) {
			cmd.Stdout = os.Stdout
		}
		if !isTerminal(2) {
			cmd.Stderr = os.Stderr
		}
		term = int(tty.Fd())
		defer tty.Close() // kept for foregroundOf
	case cfg.TTY:
		term = 0
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
	giveTerminal(term, agent)
	steps.Step("stage: agent started")
	go followLifeline(agent, sigs)
	for sig := range sigs {
		switch sig {
		case terminateRequest{}:
			terminateSandbox(cfg.Direct, agent)
			continue
		case continueRequest{}:
			continueAgent(agent, term)
			continue
		case unix.SIGTSTP, unix.SIGCONT:
			// Where the agent has no terminal of its own the stage is in agentrun's job, and
			// a stop of the job (Ctrl-Z) or its continuing is the agent's too. Elsewhere the
			// agent's stops come first and agentrun continues it (see agentStopped).
			if term < 0 {
				_ = unix.Kill(-agent, sig.(unix.Signal))
			}
			continue
		case unix.SIGTTIN, unix.SIGTTOU:
			continue
		case unix.SIGCHLD:
		default:
			_ = unix.Kill(-agent, sig.(unix.Signal))
			if sig == unix.SIGTERM || sig == unix.SIGHUP {
				// A stopped agent acts on it once continued, as the shell's kill and a
				// hangup continue a stopped job.
				_ = unix.Kill(-agent, unix.SIGCONT)
			}
			continue
		}
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG|unix.WUNTRACED, nil)
			if pid <= 0 || err != nil {
				break
			}
			if pid == agent && ws.Stopped() {
				agentStopped(ws, agent, term)
				continue
			}
			if pid == agent {
				if cfg.Direct {
					// No PID namespace ends what the agent left running: do it here.
					killDescendants(agent)
					takeTerminal(term)
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
