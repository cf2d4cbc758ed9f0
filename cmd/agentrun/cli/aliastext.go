package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/agentrun/agentrun/profiles"
)

// The shells agentrun alias writes for, in the order the help names them.
var aliasShells = []string{"bash", "zsh", "fish"}

// agentExtraArgs are arguments an agent's function passes before the user's. Codex's own
// sandbox (bubblewrap) needs a user namespace, which agentrun refuses, so every command Codex
// runs would fail; agentrun is the sandbox. A root-level -c applies to the TUI and to
// `codex exec` alike (checked with codex 0.171), and a -s/--sandbox the user types still wins.
var agentExtraArgs = map[string][]string{
	"codex": {"-c", `sandbox_mode="danger-full-access"`},
}

// aliasNameRE is what an agent's name must be to become a shell function: a plain word. A name
// that is not one is refused, never quoted into shell code.
var aliasNameRE = profiles.LazyRegexp(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)

// shellWords are names no agent function may take: the shells' reserved words and the
// builtins the functions themselves use, and agentrun.
var shellWords = map[string]bool{
	"agentrun": true,
	// reserved words (bash, zsh, fish)
	"if": true, "then": true, "else": true, "elif": true, "fi": true, "case": true, "esac": true,
	"for": true, "select": true, "while": true, "until": true, "do": true, "done": true,
	"in": true, "function": true, "time": true, "coproc": true, "repeat": true, "foreach": true,
	"end": true, "begin": true, "switch": true, "not": true, "and": true, "or": true,
	// builtins the generated code or the user's bypass relies on
	"command": true, "builtin": true, "unalias": true, "printf": true, "return": true,
	"test": true, "eval": true, "source": true, "exec": true, "set": true, "functions": true,
}

// checkAliasName says why name cannot be an agent's function, or nil.
func checkAliasName(name string) error {
	switch {
	case !aliasNameRE().MatchString(name):
		return errors.New("not a plain word ([A-Za-z0-9._-], not starting with . or -)")
	case shellWords[name]:
		return errors.New("a shell's own word, or agentrun itself")
	}
	return nil
}

// notInstalled is what an agent's function says when agentrun is gone.
func notInstalled(name string) string {
	return "agentrun is not installed: not running " + name + " unconfined; remove the line from your rc file or reinstall agentrun"
}

// aliasText is the shell code that defines, for each agent, a function that runs it under the
// agentrun at self (an absolute path), or says agentrun is missing and returns 127. The names
// must have passed checkAliasName; self must hold no control character.
func aliasText(shell, self string, agents []string) (string, error) {
	var b strings.Builder
	var quote func(string) string
	switch shell {
	case "bash", "zsh":
		quote = shQuote
	case "fish":
		quote = fishQuote
	default:
		return "", fmt.Errorf("no aliases for shell %q", shell)
	}
	fmt.Fprintf(&b, "# agentrun alias --shell %s: typing an agent's name runs it under agentrun.\n", shell)
	b.WriteString("# `command NAME` runs the agent itself, unconfined. To stop, remove the line that loads this.\n")
	if len(agents) == 0 {
		b.WriteString("# No agent with a profile was found on PATH.\n")
	}
	for _, name := range agents {
		argv := []string{quote(self), "--", name}
		for _, a := range agentExtraArgs[name] {
			argv = append(argv, quote(a))
		}
		run, msg := strings.Join(argv, " "), quote(notInstalled(name))
		if shell == "fish" {
			fmt.Fprintf(&b, "function %s\n    if test -x %s\n        %s $argv\n    else\n        printf '%%s\\n' %s >&2\n        return 127\n    end\nend\n",
				name, quote(self), run, msg)
			continue
		}
		// The function keyword, not NAME(): an alias of the same name would be expanded in
		// NAME() (zsh parses the whole eval before unalias runs). The alias goes, since an
		// alias takes precedence over a function.
		fmt.Fprintf(&b, "unalias %s 2>/dev/null || :\nfunction %s {\n  if [ -x %s ]; then\n    %s \"$@\"\n  else\n    printf '%%s\\n' %s >&2\n    return 127\n  fi\n}\n",
			name, name, quote(self), run, msg)
	}
	return b.String(), nil
}

// bareWordRE is a word that means itself, unquoted, in bash, zsh and fish.
var bareWordRE = profiles.LazyRegexp(`^[A-Za-z0-9._/-]+$`)

// shQuote quotes s for bash and zsh: in single quotes, a quote inside closing them, escaped, and reopening.
func shQuote(s string) string {
	if bareWordRE().MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// fishQuote quotes s for fish: single quotes, in which only \' and \\ are escapes.
func fishQuote(s string) string {
	if bareWordRE().MatchString(s) {
		return s
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
