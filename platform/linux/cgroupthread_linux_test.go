package linux

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups"
)

// TestEnterThread checks for real, on a cgroup v1 host as root, what the v1 stage's start
// relies on: a process cloned by a thread that entered the run's cgroups starts in them; no
// other thread of the process moved; leave takes the thread back where it was, and the run's
// cgroups can be removed after.
func TestEnterThread(t *testing.T) {
	if os.Geteuid() != 0 || cgroups.IsCgroup2UnifiedMode() {
		t.Skip("needs root on a cgroup v1 host")
	}
	c, err := newRunCgroup(newRunID(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		c.destroy()
		for _, d := range c.dirs {
			if _, err := os.Stat(d); err == nil {
				t.Errorf("%s is left after destroy", d)
			}
		}
	}()
	paths := c.m.GetPaths()
	if len(paths) == 0 {
		t.Skip("no v1 hierarchy of memory, pids or cpu here")
	}

	runtime.LockOSThread()
	before := readFile(t, "/proc/thread-self/cgroup")
	leave, err := c.enterThread()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	child, cerr := exec.Command("cat", "/proc/self/cgroup").Output() // cloned by this thread
	inside := readFile(t, "/proc/thread-self/cgroup")
	others := otherThreadsCgroups(t)
	lerr := leave()
	after := readFile(t, "/proc/thread-self/cgroup")
	if lerr == nil && after == before {
		runtime.UnlockOSThread()
	} // else this thread ends with the test, and leaves the cgroups then
	if lerr != nil {
		t.Fatalf("leave: %v", lerr)
	}
	if after != before {
		t.Fatalf("the thread did not come back:\nbefore %s\nafter  %s", before, after)
	}
	if cerr != nil {
		t.Fatal(cerr)
	}
	for sub, dir := range paths {
		mnt, err := cgroups.FindCgroupMountpoint("", sub)
		if err != nil {
			t.Fatal(err)
		}
		rel, err := filepath.Rel(mnt, dir)
		if err != nil {
			t.Fatal(err)
		}
		want := ":" + sub + ":/" + rel + "\n"
		if !strings.Contains(inside, want) {
			t.Errorf("the thread is not in %s:\n%s", dir, inside)
		}
		if !strings.Contains(string(child), want) {
			t.Errorf("the process it cloned is not in %s:\n%s", dir, child)
		}
		if strings.Contains(others, want) {
			t.Errorf("another thread of the process moved into %s too:\n%s", dir, others)
		}
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// otherThreadsCgroups is the cgroup files of every thread of this process but the caller's.
func otherThreadsCgroups(t *testing.T) string {
	t.Helper()
	self, err := os.Readlink("/proc/thread-self")
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := filepath.Glob("/proc/self/task/*")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, task := range tasks {
		if filepath.Base(task) == filepath.Base(self) {
			continue
		}
		if data, err := os.ReadFile(filepath.Join(task, "cgroup")); err == nil {
			b.Write(data)
		}
	}
	if len(tasks) < 2 {
		t.Fatal("the test process has one thread: nothing to compare with")
	}
	return b.String()
}
