// Package benchkit is what the benchmarks share: a fixture directory with agentrun built
// into it, and the order statistics they report.
package benchkit

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
)

// Env is the environment for agentrun in a fixture dir: its event store in the fixture, not
// in the user's home.
func Env(dir string) []string {
	return append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(dir, "state"))
}

// Fixture makes a directory under parent ("" for the default temporary directory) and builds
// agentrun and its stage into it with scripts/build.sh, then copies the binaries as
// scripts/install.sh does; it returns the directory and agentrun's copy. The caller removes
// the directory. The copies are what users run: the page cache holds a file the linker just
// wrote in larger pieces than one written by install(1) or read from disk, and each page
// fault then maps more of the binary — ≈ 4.5 MiB more of agentrun's peak RSS (26 MiB instead
// of 21.5), none of it used.
func Fixture(parent, prefix string) (dir, bin string, err error) {
	dir, err = os.MkdirTemp(parent, prefix)
	if err != nil {
		return "", "", err
	}
	linked := filepath.Join(dir, "linked")
	if out, err := exec.Command("scripts/build.sh", filepath.Join(linked, "agentrun")).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", "", fmt.Errorf("building agentrun (run from the repository root): %v\n%s", err, out)
	}
	for _, name := range []string{"agentrun-stage", "agentrun"} {
		if err := copyFile(filepath.Join(linked, name), filepath.Join(dir, name), 0o755); err != nil {
			os.RemoveAll(dir)
			return "", "", fmt.Errorf("copying the built %s: %w", name, err)
		}
	}
	return dir, filepath.Join(dir, "agentrun"), os.RemoveAll(linked)
}

// copyFile writes a copy of src at dst with mode perm.
func copyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Median is the middle of d (the lower of the two middles).
func Median[T cmp.Ordered](d []T) T { return Percentile(d, 0.5) }

// Percentile is the value below which a fraction p of d lies (nearest rank); zero for none.
func Percentile[T cmp.Ordered](d []T, p float64) T {
	if len(d) == 0 {
		var zero T
		return zero
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1))]
}
