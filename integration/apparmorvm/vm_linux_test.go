package apparmorvm

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestVMHarness checks what tests running in the VM rely on: the caller's files and
// directories are there, the kernel file systems are mounted, pivot_root works (container
// runtimes need it), a dynamically linked program runs and the script's exit status comes
// back.
func TestVMHarness(t *testing.T) {
	vm := Assets(t)
	tree := t.TempDir()
	if err := os.MkdirAll(filepath.Join(tree, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "sub", "file"), []byte("from the host\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/file", filepath.Join(tree, "link")); err != nil {
		t.Fatal(err)
	}
	vm.Files["/opt/tree"] = tree
	console, code := vm.Run(t, `
echo "file: $(cat /opt/tree/link) $(stat -c %a /opt/tree/sub/file)"
for fs in proc sysfs securityfs devtmpfs cgroup2; do
	grep -q " $fs " /proc/mounts && echo "mounted: $fs"
done
echo "tmp: $(stat -f -c %T /tmp)"
mkdir /tmp/newroot && mount -t tmpfs tmpfs /tmp/newroot && mkdir /tmp/newroot/old &&
	unshare -m sh -c 'cd /tmp/newroot && pivot_root . old && echo "pivot_root: ok"' 2>&1
echo "parser: $(apparmor_parser --version | head -n 1)"
exit 3
`, 2*time.Minute)
	if code != 3 {
		t.Errorf("exit status %d, want 3", code)
	}
	for _, want := range []string{
		"file: from the host 600",
		"mounted: proc", "mounted: sysfs", "mounted: securityfs", "mounted: devtmpfs", "mounted: cgroup2",
		"tmp: tmpfs",
		"pivot_root: ok",
		"parser: AppArmor parser version",
	} {
		if !strings.Contains(console, want) {
			t.Errorf("the console lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", console)
	}
}

// TestVMWatchdog: a script still running at the watchdog's time gets the report of every
// process on the console, naming the one it waits in. The script waits for the report's
// end, however slow the VM.
func TestVMWatchdog(t *testing.T) {
	vm := Assets(t)
	vm.Watchdog = time.Second
	console, code := vm.Run(t, "sleep 600 &\nwhile [ ! -e "+reportDone+" ]; do sleep 1; done\nkill $!\n", 2*time.Minute)
	if code != 0 {
		t.Errorf("exit status %d", code)
	}
	_, report, ok := strings.Cut(console, markStuck+" 1 s")
	report, _, ended := strings.Cut(report, markReport)
	if !ok || !ended || !strings.Contains(report, "-- ") || !strings.Contains(report, "sleep 600") || !strings.Contains(report, "wchan=") {
		t.Errorf("no whole watchdog report naming the sleep; console:\n%s", console)
	}
}

// TestTimedOut: a VM is starved when its watchdog never spoke or spoke of lockups and stalls,
// stuck when it reported and the guest kernel did not complain.
func TestTimedOut(t *testing.T) {
	for _, c := range []struct {
		console string
		starved bool
	}{
		{"boot\n" + markStart + " 2.4\n", true},
		{markStart + " 2.4\n" + markStuck + " 60 s\n-- 1 /init\n[ 80.1] watchdog: BUG: soft lockup - CPU#0 stuck for 23s!\n", true},
		{markStart + " 2.4\n" + markStuck + " 60 s\n[ 70.2] rcu: INFO: rcu_preempt self-detected stall on CPU\n", true},
		{markStart + " 2.4\n" + markStuck + " 60 s\n-- 97 agentrun -- /bin/sh\nwchan=do_epoll_wait\n", false},
	} {
		err := timedOut(c.console, 2*time.Minute)
		if got := errors.Is(err, errStarved); got != c.starved {
			t.Errorf("timedOut(%q) = %v, starved %v, want %v", c.console, err, got, c.starved)
		}
	}
}
