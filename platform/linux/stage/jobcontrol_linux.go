package stage

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// Job control. A user who types Ctrl-Z, or an agent that suspends itself when the user does
// (Claude Code stops its own process group), expects the shell's "Stopped" and `fg`, as
// without agentrun. The agent's process group therefore must be able to stop: a group
// stops only where it is not orphaned (some member's parent is in another group of the same
// session), so the agent is not a session leader. In the sandbox's own terminal the stage
// leads the session and the agent's group is its foreground group; in the direct tier the
// agent's group is one more in the user's session. When the agent stops the stage tells
// agentrun (lifelineStopped), which gives the user's terminal back and stops its own job;
// once that is continued agentrun asks the stage to continue the agent (lifelineContinue).

const (
	// lifelineStopped is the byte the stage writes on the lifeline when the agent stops.
	lifelineStopped = 'S'
	// lifelineContinue is the byte agentrun writes once its job is continued: the stage
	// gives the terminal back to the agent (where its own group holds it) and continues it.
	lifelineContinue = 'C'
)

// continueRequest is agentrun's continue request, passed to superviseAgent's loop with the
// signals (see terminateRequest: signals to the agent go from the thread that started it).
type continueRequest struct{}

func (continueRequest) String() string { return "continue request" }
func (continueRequest) Signal()        {}

// leadSession makes the stage the leader of a session of its own whose controlling terminal
// is tty, the agent's: the agent's group, in that session, is then not orphaned.
func leadSession(tty *os.File) error {
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("starting the sandbox's terminal session: %w", err)
	}
	if err := unix.IoctlSetInt(int(tty.Fd()), unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("taking the agent's terminal as the session's: %w", err)
	}
	return nil
}

// isTerminal reports whether fd is a terminal.
func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// foregroundOf is the foreground process group of the terminal fd (-1 when unknown).
func foregroundOf(fd int) int {
	pgrp, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil {
		return -1
	}
	return pgrp
}

// giveTerminal makes pgid the foreground process group of the terminal fd, where the stage's
// own group holds it (agentrun's job is in the foreground): a job in the background keeps
// its hands off the terminal.
func giveTerminal(fd, pgid int) {
	if fd >= 0 && foregroundOf(fd) == unix.Getpgrp() {
		setForeground(fd, pgid)
	}
}

// takeTerminal gives the terminal fd back to the stage's own group (agentrun's job) where a
// group that is gone holds it: the agent's, or one a process of the sandbox made and left
// in the foreground, ended with it (see killDescendants). A living group is someone else's.
func takeTerminal(fd int) {
	if fd < 0 {
		return
	}
	if fg := foregroundOf(fd); fg > 0 && fg != unix.Getpgrp() && unix.Kill(-fg, 0) == unix.ESRCH {
		setForeground(fd, unix.Getpgrp())
	}
}

// setForeground makes pgid the foreground process group of the terminal fd, SIGTTOU blocked
// meanwhile: the stage may be in the background (takeTerminal), or be put there between a
// check and the call, and the signal, caught, would restart the call for ever.
func setForeground(fd, pgid int) {
	var set, old unix.Sigset_t
	set.Val[0] = 1 << (uint(unix.SIGTTOU) - 1)
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old); err != nil {
		return
	}
	_ = unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, pgid)
	_ = unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
}

// agentStopped handles a stop of the agent (ws), whose terminal is fd (-1 without one). A
// stop by SIGTTIN or SIGTTOU while the agent's group holds the terminal came before
// giveTerminal did (the agent started in the background, as it must: see superviseAgent):
// it is continued at once. Any other stop is agentrun's to relay to the user's shell; without
// a terminal there is no shell to continue a job, and the agent stays stopped, as it would
// without agentrun.
func agentStopped(ws unix.WaitStatus, agent, fd int) {
	if fd < 0 {
		return
	}
	if sig := ws.StopSignal(); (sig == unix.SIGTTIN || sig == unix.SIGTTOU) && foregroundOf(fd) == agent {
		_ = unix.Kill(-agent, unix.SIGCONT)
		return
	}
	_, _ = unix.Write(LifelineFD, []byte{lifelineStopped})
}

// continueAgent answers agentrun's continue request.
func continueAgent(agent, fd int) {
	giveTerminal(fd, agent)
	_ = unix.Kill(-agent, unix.SIGCONT)
}

// FollowStops is agentrun's side of job control, on its end of the lifeline: each time the
// agent stops, suspend (the user's terminal given back, agentrun's job stopped until it is
// continued: see ptyrelay), then the stage is asked to continue the agent. It returns when
// the lifeline ends.
func FollowStops(lifeline io.ReadWriter, suspend func()) {
	b := make([]byte, 16)
	for {
		n, err := lifeline.Read(b)
		for _, c := range b[:n] {
			if c == lifelineStopped {
				suspend()
				_, _ = lifeline.Write([]byte{lifelineContinue})
			}
		}
		if err != nil {
			return
		}
	}
}
