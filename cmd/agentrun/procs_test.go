package main

import (
	"os"
	"runtime"
	"testing"
)

func TestProcs(t *testing.T) {
	for _, c := range []struct {
		env          string
		current, out int
	}{
		{"", 1, minProcs},
		{"", 2, minProcs},
		{"", minProcs, minProcs},
		{"", 16, 16},
		{"2", 2, 2}, // the user's GOMAXPROCS stands
		{"1", 1, 1},
	} {
		if got := procs(c.env, c.current); got != c.out {
			t.Errorf("procs(%q, %d) = %d, want %d", c.env, c.current, got, c.out)
		}
	}
	// This test binary ran the init too.
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < minProcs {
		t.Errorf("GOMAXPROCS is %d after init, want at least %d", runtime.GOMAXPROCS(0), minProcs)
	}
}
