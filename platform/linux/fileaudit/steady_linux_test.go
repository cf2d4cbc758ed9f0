package fileaudit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// steadyView starts a process in a mount namespace of its own, chrooted into a root made the
// way the stage makes the sandbox's: a read-only tmpfs, the host's /usr bound read-only, a
// directory bound writable, a read-only bind of a directory beneath that writable one, a
// read-only ramfs, a symlink. It returns its view and its pid (the "stage" whose mount table
// is read); everything it mounted goes with its namespace.
func steadyView(t *testing.T) (*agentView, int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("fileaudit: making a mount namespace needs root: run the tests as root")
	}
	for _, tool := range []string{"unshare", "chroot"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("fileaudit: %s is not installed (util-linux, coreutils)", tool)
		}
	}
	r := t.TempDir()
	script := `set -e
R="$1"
mount -t tmpfs steady "$R"
mkdir -p "$R/usr" "$R/ro/sub" "$R/rw/inner" "$R/ro/inner-ro" "$R/ro/ramfs"
ln -s usr/lib "$R/lib"
ln -s usr/lib64 "$R/lib64"
ln -s sub "$R/ro/link"
mount --bind /usr "$R/usr"
mount -o remount,bind,ro "$R/usr"
mount --bind "$R/rw" "$R/rw"
mount --bind "$R/rw/inner" "$R/ro/inner-ro"
mount -o remount,bind,ro "$R/ro/inner-ro"
mount -t ramfs steady "$R/ro/ramfs"
mount -o remount,bind,ro "$R/ro/ramfs"
mount -o remount,bind,ro "$R"
exec chroot "$R" /usr/bin/sleep 600`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", r)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	pid := cmd.Process.Pid
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if comm, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm")); string(comm) == "sleep\n" {
			break
		}
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			t.Fatalf("the chrooted process did not start: %s", stderr.String())
		}
	}
	v, err := openView(pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.close)
	return v, pid
}

// TestSteadyPaths: a path is steady only where the sandbox can change none of its entries —
// every directory on a read-only mount of a plain file system, none beneath a writable mount
// of the same file system — and only as written (absolute, clean, no symlink).
func TestSteadyPaths(t *testing.T) {
	v, pid := steadyView(t)
	var s steadyPaths
	// /usr is the host's, read-only: steady where its file system is a plain one (not the
	// overlay of a container, say).
	if !s.readMounts(pid) {
		t.Fatal("the chrooted process's mount table could not be read")
	}
	usr, found := false, false
	for _, m := range s.mounts {
		if m.Mountpoint == "/usr" {
			usr, found = steadyTypes[m.FSType], true
		}
	}
	if !found {
		t.Fatal("no /usr in the chrooted process's mount table")
	}
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"/usr/lib/glibc-hwcaps-probe/libc.so.6", usr}, // a loader's probe: /usr read-only
		{"/usr/bin/sleep", usr},                        // an object that exists
		{"/ro/sub/missing", true},                      // the root's tmpfs, read-only
		{"/ro/missing/deeper", true},
		{"/", true},
		{"/rw/missing", false},               // a writable mount
		{"/rw/inner/missing", false},         // beneath it
		{"/ro/inner-ro/missing", false},      // read-only here, writable through /rw
		{"/ro/ramfs/missing", false},         // not a file system of steadyTypes
		{"/ro/link/missing", false},          // a symlink on the way
		{"/lib/x86_64-linux-gnu/x", false},   // a symlink first
		{"/ro/sub/../sub/missing", false},    // not clean
		{"ro/sub/missing", false},            // relative
		{"/ro/sub//missing", false},          // not clean
		{"/usr/lib/../../rw/missing", false}, // not clean, and writable
		{"/ro/sub/missing/", false},          // not clean
	} {
		if got := s.steady(v, pid, tc.name); got != tc.want {
			t.Errorf("%s: steady %v, want %v", tc.name, got, tc.want)
		}
	}
	// Asked again, from what it learnt: the same.
	if !s.steady(v, pid, "/ro/sub/other") || s.steady(v, pid, "/rw/other") {
		t.Error("the cached answers differ")
	}
	if s.steady(v, 0, "/ro/sub/missing") {
		t.Error("steady without a stage to read the mounts of")
	}
}
