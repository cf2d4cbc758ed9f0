package cli

import (
	"os"
	"strings"
	"testing"
)

// --events - is refused before anything runs (events would interleave with the agent's
// stdout), and no file named "-" is made.
func TestEventsDashRefused(t *testing.T) {
	t.Chdir(t.TempDir())
	code, out, errOut := runMain(t, "--events", "-", "--", "true")
	if code != 125 || out != "" || !strings.Contains(errOut, "--events -") || !strings.Contains(errOut, "/dev/stderr") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 125 and --events - refused with a way out", code, out, errOut)
	}
	if _, err := os.Lstat("-"); err == nil {
		t.Error(`a file named "-" was made`)
	}
}
