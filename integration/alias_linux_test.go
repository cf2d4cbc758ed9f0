package integration

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// aliasShell is how the test drives one shell: its command line, and the agent's arguments
// (a word with a space, one with quotes) written in its syntax.
type aliasShell struct {
	name   string
	argv   []string // the shell, reading its commands from -c
	load   string   // loads the alias text from the file %s
	pre    string   // what a user's rc file may already have: an alias of the agent's name
	args   string
	status string // the last command's exit status
}

var aliasShells = []aliasShell{
	{name: "bash", argv: []string{"bash", "--norc", "--noprofile"}, load: `eval "$(cat %s)"`,
		pre: "shopt -s expand_aliases\nalias claude='echo unconfined'", args: `'two words' 'it'\''s "q"'`, status: "$?"},
	{name: "zsh", argv: []string{"zsh", "-f"}, load: `eval "$(cat %s)"`,
		pre: "alias claude='echo unconfined'", args: `'two words' 'it'\''s "q"'`, status: "$?"},
	{name: "fish", argv: []string{"fish", "--no-config"}, load: `source %s`,
		args: `'two words' 'it\'s "q"'`, status: "$status"},
}

// fakeProgram is a script that appends its name and arguments, one <…> each, to $ALIAS_CALLS
// and exits with code.
func fakeProgram(name, code string) string {
	return "#!/bin/sh\n{ printf '%s' " + name + "; printf ' <%s>' \"$@\"; printf '\\n'; } >>\"$ALIAS_CALLS\"\nexit " + code + "\n"
}

// TestAlias evaluates `agentrun alias` in real bash, zsh and fish with fake agents on a
// temporary PATH: each agent on PATH that a profile matches gets a function that runs
// `agentrun -- NAME ARGS…` (arguments intact, codex's with its sandbox off, agentrun's status
// returned), an alias of the same name already there included; `command NAME` runs the agent
// itself; the others get none. With agentrun gone, the function says so, returns 127 and runs
// nothing.
func TestAlias(t *testing.T) {
	for _, sh := range aliasShells {
		t.Run(sh.name, func(t *testing.T) {
			if _, err := exec.LookPath(sh.name); err != nil {
				t.Skipf("%s is not installed (scripts/test.sh installs it)", sh.name)
			}
			dir := t.TempDir()
			bin := filepath.Join(dir, "bin")
			// agentrun's directory has a space and a quote: the functions name it by its path.
			arDir := filepath.Join(dir, `agent's "run"`)
			for _, d := range []string{bin, arDir, filepath.Join(dir, "home"), filepath.Join(dir, "config")} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, a := range []string{"claude", "codex", "gemini"} { // aider and opencode: not on PATH
				writeExec(t, filepath.Join(bin, a), fakeProgram(a, "0"))
			}
			ar := filepath.Join(arDir, "agentrun")
			copyExec(t, agentrunBin, ar)
			calls := filepath.Join(dir, "calls")
			env := []string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + filepath.Join(dir, "home"),
				"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"), "XDG_DATA_HOME=" + filepath.Join(dir, "data"),
				"XDG_STATE_HOME=" + filepath.Join(dir, "state"), "XDG_CACHE_HOME=" + filepath.Join(dir, "cache"),
				"ALIAS_CALLS=" + calls, "SHELL=/bin/" + sh.name, "LANG=C.UTF-8"}

			gen := exec.Command(ar, "alias")
			gen.Env = env
			text, err := gen.Output()
			if err != nil {
				t.Fatalf("agentrun alias: %v", exitText(err))
			}
			for _, a := range []string{"claude", "codex", "gemini"} {
				if !regexp.MustCompile(`(?m)^function ` + a + `\b`).Match(text) {
					t.Errorf("no function for %s on PATH:\n%s", a, text)
				}
			}
			for _, a := range []string{"aider", "opencode"} {
				if strings.Contains(string(text), a) {
					t.Errorf("%s is not on PATH but has a function:\n%s", a, text)
				}
			}
			aliasFile := filepath.Join(dir, "alias."+sh.name)
			if err := os.WriteFile(aliasFile, text, 0o644); err != nil {
				t.Fatal(err)
			}
			// From here on agentrun is a fake at the real one's path; it exits 3, so that its
			// status is seen to come back through the function.
			writeExec(t, ar, fakeProgram("agentrun", "3"))

			run := func(command string) (stdout, stderr, calls string) {
				t.Helper()
				os.Remove(filepath.Join(dir, "calls"))
				script := strings.Join([]string{sh.pre, strings.Replace(sh.load, "%s", aliasFile, 1), command, "echo status=" + sh.status}, "\n")
				scriptFile := filepath.Join(dir, "run."+sh.name)
				if err := os.WriteFile(scriptFile, []byte(script), 0o644); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(sh.argv[0], append(sh.argv[1:], scriptFile)...)
				cmd.Env, cmd.Dir = env, dir
				var out, errOut strings.Builder
				cmd.Stdout, cmd.Stderr = &out, &errOut
				if err := cmd.Run(); err != nil {
					t.Fatalf("%s: %v\nstdout: %s\nstderr: %s", sh.name, err, out.String(), errOut.String())
				}
				b, err := os.ReadFile(filepath.Join(dir, "calls"))
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				return out.String(), errOut.String(), string(b)
			}
			const args = ` <two words> <it's "q">` + "\n"
			for _, tc := range []struct{ name, command, calls string }{
				{"claude", "claude " + sh.args, "agentrun <--> <claude>" + args},
				{"codex", "codex " + sh.args, `agentrun <--> <codex> <-c> <sandbox_mode="danger-full-access">` + args},
				{"gemini", "gemini " + sh.args, "agentrun <--> <gemini>" + args},
				{"command claude", "command claude " + sh.args, "claude" + args},
			} {
				stdout, stderr, got := run(tc.command)
				if got != tc.calls {
					t.Errorf("%s ran %q, want %q\nstdout: %s\nstderr: %s", tc.name, got, tc.calls, stdout, stderr)
				}
				want := "status=3\n"
				if tc.name == "command claude" {
					want = "status=0\n"
				}
				if stdout != want || stderr != "" {
					t.Errorf("%s: stdout %q (want %q), stderr %q", tc.name, stdout, want, stderr)
				}
			}

			if err := os.Remove(ar); err != nil {
				t.Fatal(err)
			}
			stdout, stderr, got := run("claude " + sh.args)
			if got != "" {
				t.Errorf("with agentrun gone, claude ran: %q", got)
			}
			const msg = "agentrun is not installed: not running claude unconfined; remove the line from your rc file or reinstall agentrun\n"
			if stdout != "status=127\n" || stderr != msg {
				t.Errorf("with agentrun gone: stdout %q (want status=127), stderr %q (want %q)", stdout, stderr, msg)
			}
		})
	}
}

// TestAliasSyntax checks that the real agentrun's output, with the agents of this host, is
// valid code for each shell (bash -n, zsh -n, fish --no-execute).
func TestAliasSyntax(t *testing.T) {
	for _, sh := range []struct {
		name  string
		check []string
	}{
		{"bash", []string{"bash", "-n"}},
		{"zsh", []string{"zsh", "-n"}},
		{"fish", []string{"fish", "--no-execute"}},
	} {
		t.Run(sh.name, func(t *testing.T) {
			if _, err := exec.LookPath(sh.name); err != nil {
				t.Skipf("%s is not installed (scripts/test.sh installs it)", sh.name)
			}
			text, err := exec.Command(agentrunBin, "alias", "--shell", sh.name).Output()
			if err != nil {
				t.Fatalf("agentrun alias --shell %s: %v", sh.name, exitText(err))
			}
			check := exec.Command(sh.check[0], sh.check[1:]...)
			check.Stdin = strings.NewReader(string(text))
			if out, err := check.CombinedOutput(); err != nil {
				t.Errorf("%s: %v\n%s\n%s", strings.Join(sh.check, " "), err, out, text)
			}
		})
	}
}

func writeExec(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}

func copyExec(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// exitText is err with the command's stderr, if it has one.
func exitText(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return err.Error() + ": " + string(ee.Stderr)
	}
	return err.Error()
}
