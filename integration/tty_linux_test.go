package integration

import (
	"os"
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

// TestTerminalRedirects: with a terminal for input, the agent's stdout or stderr redirected to
// a file or a pipe stays as it was: the file gets the agent's bytes (no CR before each line
// end, the other stream not mixed in) and the agent sees no terminal there, while its input,
// and the stream that was not redirected, are on its terminal.
func TestTerminalRedirects(t *testing.T) {
	asRootAndUser(t, func(t *testing.T, r *runner) {
		script := "test -t 0 && echo stdin-tty; test -t 1 && echo stdout-tty; test -t 2 && echo stderr-tty >&2; echo out; echo err >&2"
		for _, tc := range []struct {
			name, redirect, stream, want, screen string
		}{
			{name: "stdout to a file", redirect: "> OUT", stream: "stdout", want: "stdin-tty\nout\n", screen: "stderr-tty"},
			{name: "stdout to a pipe", redirect: "| cat > OUT", stream: "stdout", want: "stdin-tty\nout\n", screen: "stderr-tty"},
			{name: "stderr to a file", redirect: "2> OUT", stream: "stderr", want: "err\n", screen: "stdout-tty"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out := filepath.Join(r.tmp, "redirect.out")
				line := jobLine(t, r, []string{"--profile", r.profile, "--network", "none"}, script, false)
				tm := newTmux(t)
				tm.cmd("new-session", "-d", "-s", "t", "-x", "120", "-y", "40", "sh", "-c",
					strings.ReplaceAll(line+" "+tc.redirect, "OUT", out)+"; echo agentrun-exit=$?; sleep 60")
				pane := tm.waitFor("agentrun-exit=")
				if !strings.Contains(pane, "agentrun-exit=0") || !strings.Contains(pane, tc.screen) {
					t.Errorf("want exit 0 and %q on the terminal:\n%s", tc.screen, pane)
				}
				// agentrun's own notes go to stderr too (a user's rootless run on cgroup v1
				// says the default limits are not applied): stderr's file ends with the agent's.
				got, err := os.ReadFile(out)
				if ok := string(got) == tc.want || (tc.stream == "stderr" && strings.HasSuffix(string(got), "\n"+tc.want)); err != nil || !ok || strings.Contains(string(got), "\r") {
					t.Errorf("%s: want %q, got %q (%v)", tc.redirect, tc.want, got, err)
				}
			})
		}
	})
}
