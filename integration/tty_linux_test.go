package integration

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmux drives a terminal session for the PTY tests. Each test uses its own server socket.
type tmux struct {
	t      *testing.T
	socket string
}

func newTmux(t *testing.T) *tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (scripts/test.sh installs it)")
	}
	tm := &tmux{t: t, socket: filepath.Join(t.TempDir(), "tmux.sock")}
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", tm.socket, "kill-server").Run() })
	return tm
}

func (tm *tmux) cmd(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", tm.socket}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return string(out)
}

// waitFor polls the pane until it shows want.
func (tm *tmux) waitFor(want string) string {
	tm.t.Helper()
	var pane string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		pane = tm.cmd("capture-pane", "-p", "-t", "t")
		if strings.Contains(pane, want) {
			return pane
		}
	}
	tm.t.Fatalf("the terminal never showed %q; it shows:\n%s", want, pane)
	return ""
}

// TestTerminal runs an interactive shell in the sandbox under tmux: typed commands run,
// stty size follows a resize, Ctrl-C interrupts a sleep, and the terminal is sane afterwards.
func TestTerminal(t *testing.T) {
	r := newRunner(t, false)
	tm := newTmux(t)
	script := "cd " + r.ws + " && HOME=" + r.home + " " + agentrunBin + " --profile " + r.profile + " --network none -- bash --norc --noprofile; echo agentrun-exit=$?; stty -a | tr '\\n' ' '; echo; sleep 60"
	tm.cmd("new-session", "-d", "-s", "t", "-x", "100", "-y", "30", "sh", "-c", script)
	tm.cmd("send-keys", "-t", "t", "PS1='sandbox$ '", "Enter")
	tm.waitFor("sandbox$")
	tm.cmd("send-keys", "-t", "t", "echo typed-$((6*7)); stty size", "Enter")
	tm.waitFor("typed-42")
	tm.waitFor("30 100")
	tm.cmd("resize-window", "-t", "t", "-x", "120", "-y", "40")
	time.Sleep(300 * time.Millisecond)
	tm.cmd("send-keys", "-t", "t", "clear; stty size", "Enter")
	tm.waitFor("40 120")
	// The sleep outlasts waitFor's deadline: the echo shows only if Ctrl-C ended it.
	tm.cmd("send-keys", "-t", "t", "sleep 30", "Enter")
	time.Sleep(500 * time.Millisecond)
	tm.cmd("send-keys", "-t", "t", "C-c")
	tm.cmd("send-keys", "-t", "t", "echo after-$((1+1))", "Enter")
	tm.waitFor("after-2")
	tm.cmd("send-keys", "-t", "t", "exit 3", "Enter")
	pane := tm.waitFor("agentrun-exit=3")
	if !strings.Contains(pane, " icanon ") || !strings.Contains(pane, " echo ") {
		t.Errorf("the terminal was not restored (want icanon and echo in stty -a):\n%s", pane)
	}
}
