package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/agentrun/agentrun/profiles"
)

// TestAliasText checks each shell's functions: the agentrun path and the messages quoted for
// that shell, codex's extra arguments, and nothing for a shell agentrun does not write for.
func TestAliasText(t *testing.T) {
	const self = `/opt/it's a "dir"\x/agentrun`
	for _, tc := range []struct {
		name, shell string
		want        []string
	}{
		{"bash", "bash", []string{
			"unalias claude 2>/dev/null || :\nfunction claude {\n",
			`  if [ -x '/opt/it'\''s a "dir"\x/agentrun' ]; then`,
			`    '/opt/it'\''s a "dir"\x/agentrun' -- claude "$@"`,
			`    '/opt/it'\''s a "dir"\x/agentrun' -- codex -c 'sandbox_mode="danger-full-access"' "$@"`,
			`    printf '%s\n' 'agentrun is not installed: not running claude unconfined; remove the line from your rc file or reinstall agentrun' >&2`,
			"    return 127\n",
		}},
		{"zsh", "zsh", []string{
			"function codex {\n",
			`    '/opt/it'\''s a "dir"\x/agentrun' -- codex -c 'sandbox_mode="danger-full-access"' "$@"`,
		}},
		{"fish", "fish", []string{
			"function claude\n",
			`    if test -x '/opt/it\'s a "dir"\\x/agentrun'`,
			`        '/opt/it\'s a "dir"\\x/agentrun' -- claude $argv`,
			`        '/opt/it\'s a "dir"\\x/agentrun' -- codex -c 'sandbox_mode="danger-full-access"' $argv`,
			`        printf '%s\n' 'agentrun is not installed: not running codex unconfined; remove the line from your rc file or reinstall agentrun' >&2`,
			"        return 127\n    end\nend\n",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := aliasText(tc.shell, self, []string{"claude", "codex"})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
			if n := strings.Count(got, "return 127"); n != 2 {
				t.Errorf("%d functions that return 127, want 2:\n%s", n, got)
			}
		})
	}
	if _, err := aliasText("tcsh", self, nil); err == nil {
		t.Error("tcsh: no error")
	}
	got, err := aliasText("bash", "/usr/bin/agentrun", nil)
	if err != nil || strings.Contains(got, "function") || !strings.Contains(got, "No agent") {
		t.Errorf("no agents: %v\n%s", err, got)
	}
}

// TestAliasQuote checks that a bare word stays bare and everything else is quoted.
func TestAliasQuote(t *testing.T) {
	for _, tc := range []struct{ in, sh, fish string }{
		{"/usr/local/bin/agentrun", "/usr/local/bin/agentrun", "/usr/local/bin/agentrun"},
		{"-c", "-c", "-c"},
		{"a b", "'a b'", "'a b'"},
		{"it's", `'it'\''s'`, `'it\'s'`},
		{`back\slash`, `'back\slash'`, `'back\\slash'`},
		{"$HOME", "'$HOME'", "'$HOME'"},
		{"~", "'~'", "'~'"},
		{"=cmd", "'=cmd'", "'=cmd'"},
		{"*", "'*'", "'*'"},
		{"", "''", "''"},
	} {
		if got := shQuote(tc.in); got != tc.sh {
			t.Errorf("shQuote(%q) = %s, want %s", tc.in, got, tc.sh)
		}
		if got := fishQuote(tc.in); got != tc.fish {
			t.Errorf("fishQuote(%q) = %s, want %s", tc.in, got, tc.fish)
		}
	}
}

// TestAliasName checks which names may become functions.
func TestAliasName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"claude", true}, {"claude-code", true}, {"aider.py", true}, {"x_1", true},
		{"-c", false}, {".hidden", false}, {"a;rm", false}, {"$(x)", false}, {"a'b", false},
		{"é", false}, {"", false}, {"if", false}, {"command", false}, {"agentrun", false}, {"end", false},
	} {
		if err := checkAliasName(tc.name); (err == nil) != tc.ok {
			t.Errorf("checkAliasName(%q) = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// TestAliasDefaultShell checks the shell taken from $SHELL.
func TestAliasDefaultShell(t *testing.T) {
	for env, want := range map[string]string{
		"/bin/bash": "bash", "/usr/bin/zsh": "zsh", "/usr/bin/fish": "fish",
		"/bin/sh": "bash", "/bin/tcsh": "bash", "": "bash",
	} {
		if got := defaultShell(env); got != want {
			t.Errorf("defaultShell(%q) = %s, want %s", env, got, want)
		}
	}
}

// TestAliasAgents checks which agents get a function: those a built-in or user profile
// matches and PATH has, a user's profile without a match list keeping the built-in's; names
// that are not plain words are refused.
func TestAliasAgents(t *testing.T) {
	builtin := fstest.MapFS{
		"claude.yaml": {Data: []byte("name: claude\nmatch: [claude]\n")},
		"codex.yaml":  {Data: []byte("name: codex\nmatch: [codex]\n")},
		"gemini.yaml": {Data: []byte("name: gemini\nmatch: [gemini]\n")},
		"base.yaml":   {Data: []byte("name: base\n")},
	}
	user := t.TempDir()
	for name, body := range map[string]string{
		"codex.yaml": "name: codex\n", // keeps the built-in's match list
		"mine.yaml":  "name: mine\nmatch: [myagent, 'x;rm', if]\n",
	} {
		if err := os.WriteFile(filepath.Join(user, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cat, err := profiles.Load(builtin, user)
	if err != nil {
		t.Fatal(err)
	}
	onPath := map[string]bool{"claude": true, "codex": true, "myagent": true, "x;rm": true, "if": true}
	lookPath := func(name string) (string, error) {
		if onPath[name] {
			return "/usr/bin/" + name, nil
		}
		return "", errors.New("not found")
	}
	names, refused := aliasAgents(cat, lookPath)
	if got, want := strings.Join(names, " "), "claude codex myagent"; got != want {
		t.Errorf("agents %q, want %q", got, want)
	}
	if len(refused) != 2 || !strings.HasPrefix(refused[0], `"x;rm" (profile `+filepath.Join(user, "mine.yaml")+"): not a plain word") ||
		!strings.HasPrefix(refused[1], `"if" (profile `) {
		t.Errorf("refused: %v", refused)
	}
}
