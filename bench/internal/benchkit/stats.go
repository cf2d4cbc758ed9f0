// Package benchkit is what the benchmarks share: a fixture directory with agentrun built
// into it, and the order statistics they report.
package benchkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"
)

// Env is the environment for agentrun in a fixture dir: its event store in the fixture, not
// in the user's home.
func Env(dir string) []string {
	return append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(dir, "state"))
}

// Fixture makes a directory under parent ("" for the default temporary directory) and builds
// agentrun into it with scripts/build.sh; it returns the directory and the binary. The caller
// removes the directory.
func Fixture(parent, prefix string) (dir, bin string, err error) {
	dir, err = os.MkdirTemp(parent, prefix)
	if err != nil {
		return "", "", err
	}
	bin = filepath.Join(dir, "agentrun")
	if out, err := exec.Command("scripts/build.sh", bin).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", "", fmt.Errorf("building agentrun (run from the repository root): %v\n%s", err, out)
	}
	return dir, bin, nil
}

// Median is the middle of d.
func Median(d []time.Duration) time.Duration { return Percentile(d, 0.5) }

// Percentile is the value below which a fraction p of d lies (nearest rank).
func Percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(p*float64(len(s)-1))]
}
