package cli

import (
	"strings"
	"testing"
)

// The flag users try first prints what the subcommand prints, and runs nothing.
func TestVersionFlag(t *testing.T) {
	_, want, _ := runMain(t, "version")
	if !strings.HasPrefix(want, "agentrun "+Version+"\n") || !strings.Contains(want, "\ngo go") {
		t.Fatalf("agentrun version printed %q", want)
	}
	for _, args := range [][]string{{"--version"}, {"-v"}, {"--version", "--", "false"}} {
		code, out, errOut := runMain(t, args...)
		if code != 0 || out != want || errOut != "" {
			t.Errorf("agentrun %s: exit %d, stdout %q, stderr %q; want 0, %q, nothing", strings.Join(args, " "), code, out, errOut, want)
		}
	}
}
