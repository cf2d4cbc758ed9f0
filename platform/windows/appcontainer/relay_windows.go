package appcontainer

import (
	"context"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/term"
)

// resizePoll is how often RelayTerminal reads the host console's size: Windows tells a
// console program of no resize (there is no SIGWINCH), so it is polled.
const resizePoll = 250 * time.Millisecond

// RelayTerminal joins the host's console to c: in raw with VT input, out with VT output,
// keys copied to the console, its screen copied to out, the host's size followed. stop
// ends the relay and restores the host console's modes; call it after c.Close, so that the
// console's last output is copied (it waits up to a second for that). A read of in that is
// under way when stop is called keeps its goroutine until a key comes.
func RelayTerminal(ctx context.Context, c *Console, in, out *os.File) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var restore []func()
	if fd := int(in.Fd()); term.IsTerminal(fd) {
		if st, err := term.MakeRaw(fd); err == nil { // raw, with ENABLE_VIRTUAL_TERMINAL_INPUT
			restore = append(restore, func() { term.Restore(fd, st) })
		}
	}
	outH := windows.Handle(out.Fd())
	var mode uint32
	if windows.GetConsoleMode(outH, &mode) == nil {
		if windows.SetConsoleMode(outH, mode|windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING|windows.DISABLE_NEWLINE_AUTO_RETURN) == nil {
			restore = append(restore, func() { windows.SetConsoleMode(outH, mode) })
		}
	}

	go io.Copy(c.Input(), in)
	copied := make(chan struct{})
	go func() {
		io.Copy(out, c.Output())
		close(copied)
	}()
	go followSize(ctx, c, int(out.Fd()))

	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			select {
			case <-copied:
			case <-time.After(time.Second):
			}
			for i := len(restore) - 1; i >= 0; i-- {
				restore[i]()
			}
		})
	}
}

// followSize gives c the size of the host console fd, at once and whenever it changes.
func followSize(ctx context.Context, c *Console, fd int) {
	t := time.NewTicker(resizePoll)
	defer t.Stop()
	lastW, lastH := 0, 0
	for {
		if w, h, err := term.GetSize(fd); err == nil && (w != lastW || h != lastH) {
			if c.Resize(w, h) == nil {
				lastW, lastH = w, h
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
