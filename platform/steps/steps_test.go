package steps

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestSteps: with the variable naming a file, Step appends a line per step: a clock reading that does
// not go back, this process's id, the step's name.
func TestSteps(t *testing.T) {
	file := filepath.Join(t.TempDir(), "steps")
	t.Setenv(Env, file)   // before the first Step, which reads it
	if stepsFile != nil { // an earlier run's (go test -count): start as a new process
		stepsFile.Close()
	}
	stepsOnce, stepsFile = sync.Once{}, nil
	Step("first")
	Step("second step")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), data)
	}
	var last int64
	for i, want := range []string{"first", "second step"} {
		f := strings.SplitN(lines[i], " ", 3)
		if len(f) != 3 || f[1] != strconv.Itoa(os.Getpid()) || f[2] != want {
			t.Fatalf("line %q, want the clock, pid %d and %q", lines[i], os.Getpid(), want)
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || ns < last {
			t.Fatalf("clock %q after %d: %v", f[0], last, err)
		}
		last = ns
	}
}
