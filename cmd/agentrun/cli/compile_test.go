package cli

import (
	"strings"
	"testing"
)

// compile without --target says what is missing, once, whatever the arguments.
func TestCompileNeedsTarget(t *testing.T) {
	for _, args := range [][]string{{"compile"}, {"compile", "base"}, {"compile", "base", "claude"}} {
		code, out, errOut := runMain(t, args...)
		if code != 125 || out != "" || strings.Count(errOut, "agentrun: ") != 1 || !strings.Contains(errOut, "compile needs --target") || !strings.Contains(errOut, "policy, ") {
			t.Errorf("agentrun %s: exit %d, stdout %q, stderr %q; want 125 and one error naming --target and the targets", strings.Join(args, " "), code, out, errOut)
		}
	}
}
