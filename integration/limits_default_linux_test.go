package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDefaultLimitsBoundForkBomb: under an agent profile that states no limits, root's run
// gets the default ones: a fork bomb stops at the pids limit (8192), and the run ends.
func TestDefaultLimitsBoundForkBomb(t *testing.T) {
	r := newRunner(t, false)
	res := r.run(t, "--profile", "claude", "--network", "none", "--", "sh", "-c",
		"n=0; while [ $n -lt 9000 ]; do sleep 300 & n=$((n+1)); done; echo unbounded")
	if strings.Contains(res.stdout, "unbounded") || !strings.Contains(res.stderr, "Resource temporarily unavailable") && !strings.Contains(res.stderr, "fork") {
		t.Errorf("want forks refused at the default pids limit, got %s", res)
	}
	res = r.run(t, "--profile", "claude", "--network", "none", "--", "sh", "-c", "for i in $(seq 300); do sleep 1 & done; wait; echo survived")
	if res.code != 0 || !strings.Contains(res.stdout, "survived") {
		t.Errorf("want 300 processes to be fine under the defaults, got %s", res)
	}
}

// TestTmpBoundedByMemory: /tmp is a tmpfs the size of the memory limit, so a 200 MiB write
// fails under a 64 MiB limit, as root (where the cgroup also charges it) and rootless with
// the limits given up (where only the size bounds it); a small write passes.
func TestTmpBoundedByMemory(t *testing.T) {
	for _, unprivileged := range []bool{false, true} {
		r := newRunner(t, unprivileged)
		t.Run(r.name, func(t *testing.T) {
			args := []string{"--profile", filepath.Join(r.home, "limits.yaml"), "--network", "none"}
			if unprivileged {
				args = append(args, "--allow-degraded")
			}
			res := r.run(t, append(args, "--", "sh", "-c", "dd if=/dev/zero of=/tmp/big bs=1M count=200 2>&1 && echo complete")...)
			if strings.Contains(res.stdout, "complete") || !strings.Contains(res.stdout, "No space left") && res.code != 137 {
				t.Errorf("want the 200 MiB write to /tmp to fail, got %s", res)
			}
			res = r.run(t, append(args, "--", "sh", "-c", "dd if=/dev/zero of=/tmp/small bs=1M count=8 2>/dev/null && echo wrote")...)
			if res.code != 0 || !strings.Contains(res.stdout, "wrote") {
				t.Errorf("want an 8 MiB write to pass, got %s", res)
			}
		})
	}
}

// TestDefaultLimitsRootless: where agentrun cannot set cgroups (rootless on this cgroup v1
// host), a run under an agent profile goes on without the defaults and says so in one line.
func TestDefaultLimitsRootless(t *testing.T) {
	r := newRunner(t, true)
	if hostHasCgroup2() {
		t.Skip("this host has cgroup v2: a delegated subtree may give rootless runs their limits")
	}
	res := r.run(t, "--profile", "claude", "--network", "none", "--", "echo", "ran")
	if res.code != 0 || res.stdout != "ran\n" || strings.Count(res.stderr, "default limits") != 1 || !strings.Contains(res.stderr, "not applied") {
		t.Errorf("want the run to go on, saying once that the default limits are not applied, got %s", res)
	}
}

func hostHasCgroup2() bool {
	_, err := os.Stat("/sys/fs/cgroup/cgroup.controllers")
	return err == nil
}
