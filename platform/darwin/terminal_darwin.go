//go:build darwin

package darwin

import (
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/creack/pty"

	"github.com/agentrun/agentrun/platform/ptyrelay"
)

// startTerminal starts cmd on a new PTY the size of in (cmd becomes the leader of a new
// session with the PTY as its controlling terminal) and relays between it and the user's
// terminal (in raw mode, its size followed), as on Linux. A standard stream cmd has already
// keeps it.
func startTerminal(cmd *exec.Cmd, in *os.File, out io.Writer) (*ptyrelay.Terminal, error) {
	cols, rows := ptyrelay.Size(in)
	master, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: cols, Rows: rows})
	if err != nil {
		return nil, fmt.Errorf("starting the agent on a terminal: %w", err)
	}
	t := ptyrelay.New(in, out)
	if err := t.Attach(master); err != nil {
		t.Restore()
		return nil, err
	}
	return t, nil
}
