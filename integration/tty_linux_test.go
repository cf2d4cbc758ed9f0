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

// TestClaudeCode installs Claude Code from npm into the fixture home and runs it under the
// built-in claude profile, selected by its name: --version prints, and its TUI draws.
func TestClaudeCode(t *testing.T) {
	if testing.Short() {
		t.Skip("installs Claude Code from npm; skipped with -short")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed (scripts/test.sh installs it)")
	}
	r := newRunner(t, false)
	prefix := filepath.Join(r.home, ".npm-global")
	install := exec.Command("npm", "install", "--global", "--prefix", prefix, "--no-fund", "--no-audit", "@anthropic-ai/claude-code")
	install.Env = append(os.Environ(), "HOME="+r.home, "npm_config_cache="+t.TempDir())
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm install @anthropic-ai/claude-code: %v\n%s", err, out)
	}
	path := filepath.Join(prefix, "bin") + ":/usr/local/bin:/usr/bin:/bin"
	cmd := r.command(t.Context(), "--network=none", "--", "claude", "--version")
	cmd.Env = append(cmd.Env, "PATH="+path)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Claude Code") {
		t.Fatalf("claude --version under agentrun: %v\n%s", err, out)
	}
	dry := r.command(t.Context(), "--dry-run", "--network=none", "--", "claude")
	dry.Env = append(dry.Env, "PATH="+path)
	if out, err := dry.CombinedOutput(); err != nil || !strings.Contains(string(out), " claude (builtin/claude.yaml): base → git → node → python → go → rust → claude") {
		t.Errorf("claude was not matched to the claude profile: %v\n%s", err, out)
	}

	tm := newTmux(t)
	script := "cd " + r.ws + " && HOME=" + r.home + " PATH=" + path + " TERM=xterm-256color " + agentrunBin + " --network=none -- claude; sleep 60"
	tm.cmd("new-session", "-d", "-s", "t", "-x", "120", "-y", "40", "sh", "-c", script)
	tm.waitFor("Claude Code")
}
