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
	in       *os.File
	out      io.Writer
	master   *os.File
	state    *term.State
	winch    chan os.Signal
	copyDone chan struct{}
	// The relay of the user's keystrokes stops when stop[1] is written, so that nothing
	// after the run (a question to the user) loses its answer to a reader left behind.
	stop   [2]int
	inDone chan struct{}
}

// New is the relay between the user's terminal in and out; Attach starts it.
func New(in *os.File, out io.Writer) *Terminal {
	return &Terminal{in: in, out: out}
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
	t.resize()
	t.winch = make(chan os.Signal, 4)
	signal.Notify(t.winch, unix.SIGWINCH)
	go func() {
		for range t.winch {
			t.resize()
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
	go func() {
		_, _ = io.Copy(t.out, t.master)
		close(t.copyDone)
	}()
	return nil
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
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return
		}
		if fds[1].Revents != 0 {
			return
		}
		if fds[0].Revents == 0 {
			continue
		}
		n, err := unix.Read(in, buf)
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

func (t *Terminal) resize() {
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
	if t.winch != nil {
		signal.Stop(t.winch)
		close(t.winch)
		t.winch = nil
	}
	if t.state != nil {
		_ = term.Restore(int(t.in.Fd()), t.state)
		t.state = nil
	}
	if t.master != nil {
		t.master.Close()
		t.master = nil
	}
}
