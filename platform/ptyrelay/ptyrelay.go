//go:build linux || darwin

// Package ptyrelay relays what the user does to the agent, on every Unix backend: between the
// user's terminal and the agent's pseudo-terminal (the user's side in raw mode, the window
// size followed, the keystrokes copied in a poll loop that can be called off so that nothing
// typed after the run is lost to it, the terminal put back as it was), and the signals
// agentrun gets (RelaySignals).
package ptyrelay

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// IsTerminal reports whether r is a terminal, so the agent gets a PTY.
func IsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Terminal relays between the user's terminal and an agent's PTY (its master side).
type Terminal struct {
	in     *os.File
	out    io.Writer
	master *os.File
	// mu guards the user's terminal's mode: raw while agentrun's job is in the foreground,
	// as it was (state) while the job is stopped or in the background (see Suspend).
	mu    sync.Mutex
	state *term.State
	raw   bool
	// suspending: Suspend has given the terminal back and stops the job.
	suspending bool
	winch      chan os.Signal
	cont       chan os.Signal
	copyDone   chan struct{}
	// outMu is held while a piece of the agent's output is written (see waitOutput).
	outMu sync.Mutex
	// The relay of the user's keystrokes stops when stop[1] is written, so that nothing
	// after the run (a question to the user) loses its answer to a reader left behind.
	stop   [2]int
	inDone chan struct{}
}

// New is the relay between the user's terminal in and out; Attach starts it.
func New(in *os.File, out io.Writer) *Terminal {
	return &Terminal{in: in, out: out}
}

// OutputOf is where the output of the agent's terminal goes: stdout where it is a terminal,
// else stderr where that is one (the agent then writes its standard output to stdout itself),
// else stdout.
func OutputOf(stdout, stderr io.Writer) io.Writer {
	for _, w := range []io.Writer{stdout, stderr} {
		if IsTerminalOut(w) {
			return w
		}
	}
	return stdout
}

// IsTerminalOut reports whether w is a terminal.
func IsTerminalOut(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Size returns the size of the user's terminal as columns and rows (80×24 when unknown).
func Size(in *os.File) (cols, rows uint16) {
	ws, err := pty.GetsizeFull(in)
	if err != nil {
		return 80, 24
	}
	return ws.Cols, ws.Rows
}

// Attach takes the PTY master, puts the user's terminal in raw mode and starts relaying.
func (t *Terminal) Attach(master *os.File) error {
	if master == nil {
		return fmt.Errorf("no terminal to relay to (the sandbox sent none)")
	}
	t.master = master
	var err error
	if t.state, err = term.MakeRaw(int(t.in.Fd())); err != nil {
		return fmt.Errorf("putting the terminal in raw mode: %w", err)
	}
	t.raw = true
	t.resize()
	// Each goroutine ranges over its own channel: Restore sets the fields to nil.
	winch := make(chan os.Signal, 4)
	t.winch = winch
	signal.Notify(winch, unix.SIGWINCH)
	go func() {
		for range winch {
			t.resize()
		}
	}()
	// A job continued in the foreground (`fg`, also after `bg`) takes the terminal raw again.
	cont := make(chan os.Signal, 1)
	t.cont = cont
	signal.Notify(cont, unix.SIGCONT)
	go func() {
		for range cont {
			t.continued()
		}
	}()
	if err := unix.Pipe(t.stop[:]); err != nil {
		return fmt.Errorf("creating the terminal relay's stop pipe: %w", err)
	}
	unix.CloseOnExec(t.stop[0])
	unix.CloseOnExec(t.stop[1])
	t.inDone = make(chan struct{})
	go t.relayInput()
	t.copyDone = make(chan struct{})
	go t.relayOutput()
	return nil
}

// relayOutput copies the agent's output to the user's terminal until the agent's terminal
// is closed.
func (t *Terminal) relayOutput() {
	defer close(t.copyDone)
	buf := make([]byte, 32*1024)
	for {
		n, err := t.master.Read(buf)
		if n > 0 {
			t.outMu.Lock()
			_, werr := t.out.Write(buf[:n])
			t.outMu.Unlock()
			if werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Suspend gives the user's terminal back as it was and stops agentrun's job, the agent
// having stopped (see StopJob): once the agent's output so far is written, so that what it
// wrote as it suspended (Claude Code leaves its screen) comes before the shell's prompt. It
// returns once the job is continued, the terminal raw again where the job is in the
// foreground.
func (t *Terminal) Suspend() {
	t.waitOutput()
	t.outMu.Lock() // a write under way ends first
	t.mu.Lock()
	t.suspending = true
	if t.raw {
		_ = term.Restore(int(t.in.Fd()), t.state)
		t.raw = false
	}
	t.mu.Unlock()
	t.outMu.Unlock()
	StopJob()
	t.mu.Lock()
	t.suspending = false
	t.mu.Unlock()
	t.holdTerminal()
}

// continued follows a SIGCONT: a job stopped other than by Suspend (SIGTTIN, a stop sent from
// elsewhere) had its terminal given to the shell, which set its own modes, before `fg` or
// `bg`. The terminal is raw again when the job is in the foreground.
func (t *Terminal) continued() {
	t.mu.Lock()
	if t.raw && !isRaw(int(t.in.Fd())) {
		t.raw = false
	}
	t.mu.Unlock()
	t.holdTerminal()
}

// holdTerminal reports whether agentrun's job is the foreground job of the user's terminal,
// and then keeps that terminal raw: taken raw again once the job is back in the foreground. In
// the background (or while Suspend stops the job) it leaves the terminal alone.
func (t *Terminal) holdTerminal() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	fd := int(t.in.Fd())
	if t.suspending || t.master == nil || !foreground(fd) {
		t.raw = false // the shell's modes are the shell's to restore
		return false
	}
	if t.raw {
		return true
	}
	st, err := term.MakeRaw(fd)
	if err != nil {
		return false
	}
	t.state, t.raw = st, true // state: as the shell left it, for Restore
	t.resizeLocked()
	return true
}

// waitOutput waits, a quarter of a second at most, until the agent's terminal holds no
// output that relayOutput has not read.
func (t *Terminal) waitOutput() {
	rc, err := t.master.SyscallConn()
	if err != nil {
		return
	}
	for deadline := time.Now().Add(250 * time.Millisecond); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		n := -1
		_ = rc.Control(func(fd uintptr) {
			n = unread(int(fd))
		})
		if n <= 0 {
			return
		}
	}
}

// relayInput copies the user's keystrokes to the agent's terminal until the input ends or
// stopInput is called; it waits in poll, never in a read that cannot be called off.
func (t *Terminal) relayInput() {
	defer close(t.inDone)
	in := int(t.in.Fd())
	buf := make([]byte, 32*1024)
	fds := []unix.PollFd{{Fd: int32(in), Events: unix.POLLIN}, {Fd: int32(t.stop[0]), Events: unix.POLLIN}}
	for {
		fds[0].Revents, fds[1].Revents = 0, 0
		// A quarter of a second at a time: the job's place changes without a signal to it
		// (`fg` of a job that runs sends none; see holdTerminal).
		n, err := unix.Poll(fds, 250)
		if err != nil && err != unix.EINTR {
			return
		}
		if fds[1].Revents != 0 {
			return
		}
		if !t.holdTerminal() || n <= 0 || fds[0].Revents == 0 {
			continue // in the background, what is typed is the shell's
		}
		n, err = unix.Read(in, buf)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if n <= 0 || err != nil {
			return
		}
		if _, err := t.master.Write(buf[:n]); err != nil {
			return
		}
	}
}

// stopInput ends the keystroke relay and waits for it, so the terminal's next reader gets
// everything the user types from now on.
func (t *Terminal) stopInput() {
	if t.inDone == nil {
		return
	}
	_, _ = unix.Write(t.stop[1], []byte{0})
	select {
	case <-t.inDone:
	case <-time.After(time.Second):
	}
	unix.Close(t.stop[0])
	unix.Close(t.stop[1])
	t.inDone = nil
}

// resize gives the agent's terminal the size of the user's, until Restore.
func (t *Terminal) resize() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.resizeLocked()
}

func (t *Terminal) resizeLocked() {
	if t.master == nil {
		return
	}
	if ws, err := pty.GetsizeFull(t.in); err == nil {
		_ = pty.Setsize(t.master, ws)
	}
}

// Drain waits briefly for the agent's last output once it has exited.
func (t *Terminal) Drain() {
	if t.copyDone == nil {
		return
	}
	select {
	case <-t.copyDone:
	case <-time.After(500 * time.Millisecond):
	}
}

// Restore ends the relay and puts the user's terminal back as it was, and closes the PTY
// master. It is safe to call more than once.
func (t *Terminal) Restore() {
	t.stopInput()
	for _, c := range []*chan os.Signal{&t.winch, &t.cont} {
		if *c != nil {
			signal.Stop(*c)
			close(*c)
			*c = nil
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.raw {
		_ = term.Restore(int(t.in.Fd()), t.state)
		t.raw = false
	}
	t.state = nil
	if t.master != nil {
		t.master.Close()
		t.master = nil
	}
}
