package linux

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/opencontainers/cgroups"
)

// TestCleanStaleKeepsLockOfBusyCgroup: a dead run's cgroup that cannot be removed yet (a
// process still in it) keeps its lock file, which records it, so that a later start removes
// it; before, the lock went and the cgroup stayed for good (a memory cgroup was left so when
// agentrun died on a closed pipe).
func TestCleanStaleKeepsLockOfBusyCgroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: it makes a cgroup")
	}
	base := filepath.Join(cgroupRoot, "memory")
	if cgroups.IsCgroup2UnifiedMode() {
		base = cgroupRoot
	}
	dir := filepath.Join(base, "agentrun", "agentrun-cleantest-"+strconv.Itoa(os.Getpid()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Skipf("cannot make a cgroup here: %v", err)
	}
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() }
	t.Cleanup(func() {
		stop()
		_ = cgroups.RemovePath(dir)
		_ = os.Remove(filepath.Dir(dir))
	})
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(sleeper.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	lock := filepath.Join(root, "agentrun-dead.lock")
	if err := os.WriteFile(lock, lockContent([]string{dir}), 0o600); err != nil {
		t.Fatal(err)
	}

	CleanStale(root)
	if _, err := os.Stat(lock); err != nil {
		t.Fatalf("the lock file of a run whose cgroup is still busy was removed: %v", err)
	}
	stop()
	CleanStale(root)
	for _, p := range []string{lock, dir} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is left once the cgroup could go: %v", p, err)
		}
	}
}
