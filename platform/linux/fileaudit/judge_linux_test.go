package fileaudit

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/platform/linux/seccompfilter"
	"github.com/agentrun/agentrun/profiles"
)

// collect is a sink that keeps what it is given.
type collect struct {
	mu  sync.Mutex
	evs []events.Event
}

func (c *collect) Record(e events.Event) { c.mu.Lock(); c.evs = append(c.evs, e); c.mu.Unlock() }

// TestJudgeOutcomesBeforePermission decodes real open calls of this process against real
// files (a directory the policy only reads) and judges them in audit mode: a call the kernel
// answers with EEXIST before any permission check is no event; what it would refuse is one,
// with the op that names it. Each case's call is also made, to show the kernel's own answer.
func TestJudgeOutcomesBeforePermission(t *testing.T) {
	dir := t.TempDir()
	existing, missing, link := filepath.Join(dir, "existing"), filepath.Join(dir, "missing"), filepath.Join(dir, "link")
	if err := os.WriteFile(existing, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(missing, link); err != nil {
		t.Fatal(err)
	}
	pol := &profiles.Policy{Filesystem: profiles.FilesystemPolicy{Read: []profiles.PathRule{{Path: dir, Pattern: dir}}}}
	tests := []struct {
		name    string
		call    string
		path    string
		flags   uint64
		errno   unix.Errno // the kernel's answer, without a sandbox
		wantOps []string   // the ops of the would-deny events
	}{
		{"excl of an existing file", "openat", existing, unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL, unix.EEXIST, nil},
		{"excl of a symlink to a missing file", "openat", link, unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL, unix.EEXIST, nil},
		{"excl of a missing file", "openat", missing, unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL, 0, []string{"create"}},
		{"create of an existing file", "openat", existing, unix.O_WRONLY | unix.O_CREAT, 0, []string{"write"}},
		{"creat of a missing file", "creat", missing, 0, 0, []string{"create"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c watchedCall
			for _, wc := range watchedCalls {
				if wc.name == tc.call {
					c = wc
				}
			}
			if c.name == "" {
				t.Skipf("no %s system call on this architecture", tc.call)
			}
			args := [6]uint64{uint64(uint32(unix.AT_FDCWD & 0xffffffff)), 0, tc.flags}
			own := &ownFS{}
			defer own.forget()
			a, ok := decodeCall(c, unix.Gettid(), args, tc.flags, [][]byte{[]byte(tc.path)}, own,
				func(int, int) (string, bool) { return "", false }, func() bool { return true })
			if !ok {
				t.Fatal("the call was not decoded")
			}
			defer a.release()
			sink := &collect{}
			j := newFileJudge(pol, &fileJudgeSpec{audit: true, sink: sink})
			for i, p := range a.paths {
				j.judgePath(&a, p, a.op, a.access, a.exists[i], a.isDir[i])
			}
			var ops []string
			for _, e := range sink.evs {
				if e.Verdict != events.WouldDeny || e.Path != tc.path {
					t.Errorf("event %+v, want a would-deny of %s", e, tc.path)
				}
				ops = append(ops, e.Op)
			}
			if len(ops) != len(tc.wantOps) || (len(ops) > 0 && ops[0] != tc.wantOps[0]) {
				t.Errorf("would-deny ops %q, want %q", ops, tc.wantOps)
			}
			// The kernel's own answer, which the judge must agree with.
			fd, err := unix.Open(tc.path, int(tc.flags)|unix.O_CLOEXEC, 0o644)
			if tc.call == "creat" {
				fd, err = unix.Creat(tc.path, 0o644)
			}
			if err == nil {
				unix.Close(fd)
				os.Remove(tc.path)
				if tc.path == existing {
					os.WriteFile(existing, nil, 0o644)
				}
			}
			if got, _ := err.(unix.Errno); got != tc.errno {
				t.Errorf("the kernel answered %v, the table says %v", err, tc.errno)
			}
		})
	}
}

// TestJudgePinnedRemoval: a directory that is not empty cannot be removed anyway (ENOTEMPTY:
// git stash tries rmdir .git, a pinned mount point), so its removal is no event; an empty
// pinned one would be removed but for the pin, so it is one, as a rename is. The calls are
// decoded as the notifier decodes them, while the caller waits.
func TestJudgePinnedRemoval(t *testing.T) {
	dir := t.TempDir()
	full, empty := filepath.Join(dir, "full"), filepath.Join(dir, "empty")
	for _, d := range []string{full, empty} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(full, "config"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	pol := &profiles.Policy{Filesystem: profiles.FilesystemPolicy{Write: []profiles.PathRule{{Path: dir, Pattern: dir}}}}
	call := func(name string) watchedCall {
		for _, c := range watchedCalls {
			if c.name == name {
				return c
			}
		}
		t.Fatalf("no %s", name)
		return watchedCall{}
	}
	for _, tc := range []struct {
		call  string
		paths []string
		want  bool
	}{
		{"unlinkat", []string{full}, false},
		{"unlinkat", []string{empty}, true},
		{"renameat2", []string{full, filepath.Join(dir, "moved")}, true},
	} {
		var raws [][]byte
		for _, p := range tc.paths {
			raws = append(raws, []byte(p))
		}
		args := [6]uint64{uint64(uint32(unix.AT_FDCWD & 0xffffffff)), 0, uint64(uint32(unix.AT_FDCWD & 0xffffffff)), 0, 0}
		own := &ownFS{}
		a, ok := decodeCall(call(tc.call), unix.Gettid(), args, 0, raws, own,
			func(int, int) (string, bool) { return "", false }, func() bool { return true })
		if !ok {
			t.Fatalf("%s %v: not decoded", tc.call, tc.paths)
		}
		// This process's view is the host's, where /tmp may share the root's file system:
		// nothing here is a sandbox's own.
		clear(a.own)
		sink := &collect{}
		j := newFileJudge(pol, &fileJudgeSpec{sink: sink})
		j.pinned = map[string]string{full: "filesystem.protect full/config", empty: "filesystem.protect empty/config"}
		j.judge(&a)
		a.release()
		own.forget()
		got := false
		for _, e := range sink.evs {
			got = got || e.Path == tc.paths[0] && e.Verdict == events.Denied
		}
		if got != tc.want {
			t.Errorf("%s of %s: events %+v, want a denial: %v", tc.call, filepath.Base(tc.paths[0]), sink.evs, tc.want)
		}
	}
	// The kernel's own answer to the first: not empty.
	if err := unix.Rmdir(full); err != unix.ENOTEMPTY {
		t.Errorf("rmdir of a directory holding a file: %v, want ENOTEMPTY", err)
	}
}

// TestDirEmpty: agentrun reads a directory of the agent's view here, as root; a symlink to an
// empty directory (swapped in for the one named) is not followed, and a FIFO is never opened
// (which would wait for a writer).
func TestDirEmpty(t *testing.T) {
	dir := t.TempDir()
	empty, full, link, fifo := filepath.Join(dir, "empty"), filepath.Join(dir, "full"), filepath.Join(dir, "link"), filepath.Join(dir, "fifo")
	for _, d := range []string{empty, full} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(empty, link); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := openView(unix.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	defer v.close()
	for p, want := range map[string]bool{empty: true, full: false, link: false, fifo: false, filepath.Join(dir, "missing"): false} {
		if got := v.dirEmpty(p); got != want {
			t.Errorf("dirEmpty(%s) = %v, want %v", filepath.Base(p), got, want)
		}
	}
}

// TestScopeReport: audit mode as root, whose reads come from the kernel's recorders, has
// enforce mode's filter exactly (no read waits for agentrun); audit mode through the notifier
// and --trace have every call reported.
func TestScopeReport(t *testing.T) {
	for scope, want := range map[Scope]seccompfilter.Report{
		WatchNothing:     seccompfilter.ReportNothing,
		WatchExecs:       seccompfilter.ReportExecs,
		WatchKernelReads: seccompfilter.ReportWrites,
		WatchFiles:       seccompfilter.ReportAll,
	} {
		if got := scope.Report(); got != want {
			t.Errorf("scope %d reports %d, want %d", scope, got, want)
		}
	}
}
