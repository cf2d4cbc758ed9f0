package integration

import (
	"fmt"
	"strings"
)

// Terminal escapes: names the agent chooses reach agentrun's end-of-run summary on the user's
// terminal. Each attack makes a write that is denied (the home is read-only under base) with a
// name that would act on a terminal; it held when agentrun's output holds none of the raw
// bytes. The agent's own error messages are sent nowhere, so only agentrun's lines are judged.
// The twin makes the same name in the workspace, where it may.
func init() {
	for _, v := range []struct{ name, printf, escaped string }{
		{"OSC 0 window title", `osc0-\033]0;pwned\007`, `\x1b]0;pwned\x07`},
		{"OSC 52 clipboard write", `osc52-\033]52;c;Y3VybCBldmlsLnRlc3Q=\007`, `\x1b]52;c;`},
		{"CR and erase line", `cr-\r\033[K`, `\r\x1b[K`},
		{"forged summary line", `nl-\nagentrun: 0 accesses denied`, `\nagentrun: 0 accesses denied`},
		{"8-bit CSI", `csi-\2332J`, `csi-`},
		{"bidi override", `bidi-\342\200\256hs.txt`, `\u202e`},
	} {
		escapeAttempts = append(escapeAttempts, escapeAttempt{
			class: "terminal", name: v.name,
			attack:      fmt.Sprintf(`exec 2>/dev/null; touch "$HOME/$(printf '%s')"; exit 1`, v.printf),
			held:        terminalHeld(v.escaped),
			control:     fmt.Sprintf(`n="$(printf '%s')"; touch "./$n" && [ -f "./$n" ] && rm -f "./$n" && echo made`, v.printf),
			controlWant: "made",
		})
	}
}

// terminalHeld judges agentrun's output: no raw escape byte, no forged line, and, where the
// denial was summarised, the name in its escaped form.
func terminalHeld(escaped string) func(r *runner, res result) error {
	return func(r *runner, res result) error {
		out := res.stdout + res.stderr
		for _, b := range rawBytes {
			if strings.Contains(out, b) {
				return fmt.Errorf("agentrun's output holds the raw %q: %q", b, out)
			}
		}
		for _, l := range strings.Split(out, "\n") {
			if l == "agentrun: 0 accesses denied" {
				return fmt.Errorf("agentrun's output holds the forged line: %q", out)
			}
		}
		if (strings.Contains(res.stderr, " denied: ") || strings.Contains(res.stderr, " enforce mode: ")) && !strings.Contains(res.stderr, escaped) {
			return fmt.Errorf("the summary does not show the name escaped (%s): %q", escaped, res.stderr)
		}
		return nil
	}
}
