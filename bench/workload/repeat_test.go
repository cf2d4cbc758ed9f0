package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepeated runs the shell loop for real: it runs the command k times, succeeds when each
// run exits with the wanted status, and fails (99) at the first run that does not.
func TestRepeated(t *testing.T) {
	count := filepath.Join(t.TempDir(), "count")
	run := func(k, status int, script string) (int, int) {
		os.Remove(count)
		argv := repeated(k, []string{"/bin/sh", "-c", "echo x >> " + count + "; " + script}, status)
		err := exec.Command(argv[0], argv[1:]...).Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(count)
		return code, strings.Count(string(b), "x")
	}
	if code, n := run(5, 1, "exit 1"); code != 0 || n != 5 {
		t.Errorf("five runs exiting 1, wanting 1: exit %d after %d runs, want 0 after 5", code, n)
	}
	if code, n := run(5, 0, "exit 0"); code != 0 || n != 5 {
		t.Errorf("five runs exiting 0: exit %d after %d runs, want 0 after 5", code, n)
	}
	if code, n := run(5, 1, "exit 0"); code != 99 || n != 1 {
		t.Errorf("a run exiting 0, wanting 1: exit %d after %d runs, want 99 after 1", code, n)
	}
}
