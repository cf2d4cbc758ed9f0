//go:build darwin

package darwin

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// isTerminal reports whether r is a terminal, so the agent gets a PTY.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// terminal relays between the user's terminal and the agent's PTY: the user's side in raw
// mode, the window size followed (SIGWINCH), as on Linux.
type terminal struct {
	in       *os.File
	master   *os.File
	state    *term.State
	winch    chan os.Signal
	copyDone chan struct{}
	stop     [2]int // writing stop[1] ends the keystroke relay
	inDone   chan struct{}
}

// startTerminal starts cmd on a new PTY the size of in (cmd becomes the leader of a new
// session with the PTY as its controlling terminal), puts in in raw mode and relays in to
// the agent and the agent's output to out.
func startTerminal(cmd *exec.Cmd, in *os.File, out io.Writer) (*terminal, error) {
	t := &terminal{in: in}
	size, err := pty.GetsizeFull(in)
	if err != nil {
		size = &pty.Winsize{Cols: 80, Rows: 24}
	}
	if t.master, err = pty.StartWithSize(cmd, size); err != nil {
		return nil, fmt.Errorf("starting the agent on a terminal: %w", err)
	}
	if t.state, err = term.MakeRaw(int(in.Fd())); err != nil {
		t.master.Close()
		return nil, fmt.Errorf("putting the terminal in raw mode: %w", err)
	}
	t.winch = make(chan os.Signal, 4)
	signal.Notify(t.winch, syscall.SIGWINCH)
	go func() {
		for range t.winch {
			_ = pty.InheritSize(t.in, t.master)
		}
	}()
	if err := unix.Pipe(t.stop[:]); err != nil {
		t.restore()
		return nil, fmt.Errorf("creating the terminal relay's stop pipe: %w", err)
	}
	t.inDone = make(chan struct{})
	go t.relayInput()
	t.copyDone = make(chan struct{})
	go func() {
		_, _ = io.Copy(out, t.master)
		close(t.copyDone)
	}()
	return t, nil
}

// relayInput copies the user's keystrokes to the agent until the input ends or stopInput is
// called; it waits in poll, never in a read that cannot be called off, so nothing typed
// after the run is lost to it.
func (t *terminal) relayInput() {
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

// drain waits briefly for the agent's last output once it has exited.
func (t *terminal) drain() {
	select {
	case <-t.copyDone:
	case <-time.After(500 * time.Millisecond):
	}
}

// restore ends the relay and puts the user's terminal back as it was.
func (t *terminal) restore() {
	if t.inDone != nil {
		_, _ = unix.Write(t.stop[1], []byte{0})
		select {
		case <-t.inDone:
		case <-time.After(time.Second):
		}
		unix.Close(t.stop[0])
		unix.Close(t.stop[1])
		t.inDone = nil
	}
	if t.winch != nil {
		signal.Stop(t.winch)
		close(t.winch)
		t.winch = nil
	}
	if t.state != nil {
		_ = term.Restore(int(t.in.Fd()), t.state)
		t.state = nil
	}
	t.master.Close()
}
