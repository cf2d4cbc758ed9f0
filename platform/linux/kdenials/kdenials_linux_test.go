package kdenials

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// testCalls are the calls the tests record, those every architecture has (agentrun's own
// table is the file judge's: fileaudit.RefusalCalls); testErrnos, the errnos of a refusal.
var (
	testCalls = []Call{
		{Nr: unix.SYS_OPENAT, Paths: []int{1}, Flags: 3},
		{Nr: unix.SYS_MKDIRAT, Paths: []int{1}},
		{Nr: unix.SYS_UNLINKAT, Paths: []int{1}},
		{Nr: unix.SYS_RENAMEAT2, Paths: []int{1, 3}},
	}
	testErrnos = []unix.Errno{unix.EACCES, unix.EPERM, unix.EROFS}
)

func TestMain(m *testing.M) {
	if os.Getenv(envScenario) != "" {
		os.Exit(childMain())
	}
	os.Exit(m.Run())
}

func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("kdenials: loading BPF programs and making a PID namespace need root: run the tests as root")
	}
}

// fixture makes the files the child is refused: a root-only secret beside a public file in a
// directory anyone may search, a directory nobody but root may write, and a directory the
// child binds read-only.
func fixture(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "kdenials-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing the fixture: %v", err)
		}
	})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Chmod(dir, 0o755))
	must(os.WriteFile(filepath.Join(dir, "secret"), []byte("s"), 0o600))
	must(os.WriteFile(filepath.Join(dir, "public"), []byte("p"), 0o644))
	must(os.Mkdir(filepath.Join(dir, "locked"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "locked", "a"), []byte("a"), 0o644))
	must(os.Mkdir(filepath.Join(dir, "ro"), 0o777))
	must(os.Chmod(filepath.Join(dir, "ro"), 0o777))
	return dir
}

type testChild struct {
	cmd            *exec.Cmd
	stdin          io.WriteCloser
	stdout, stderr bytes.Buffer
}

// startChild starts the test binary as a child running scenario, in new PID and mount
// namespaces when newNS; it waits for release.
func startChild(t testing.TB, scenario, dir string, newNS bool) *testChild {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &testChild{cmd: exec.Command(exe)}
	c.cmd.Env = append(os.Environ(), envScenario+"="+scenario, envDir+"="+dir)
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if newNS {
		c.cmd.SysProcAttr.Cloneflags = unix.CLONE_NEWPID | unix.CLONE_NEWNS
	}
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("starting the child: %v", err)
	}
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
	})
	return c
}

// release lets the child make its calls and waits for it.
func (c *testChild) release(t testing.TB) {
	t.Helper()
	if _, err := c.stdin.Write([]byte{1}); err != nil {
		t.Fatalf("releasing the child: %v", err)
	}
	c.stdin.Close()
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("child: %v: %s", err, c.stderr.String())
	}
}

func load(t testing.TB, pid int) *Watcher {
	t.Helper()
	ns, err := NamespaceOf(pid)
	if err != nil {
		t.Fatal(err)
	}
	w, err := Load(ns, testCalls, testErrnos)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("closing: %v", err)
		}
	})
	return w
}

// drain reads every record sent so far, as agentrun's feed does once the sandbox has ended:
// Flush, then Read until ErrFlushed.
func drain(t testing.TB, w *Watcher) []Record {
	t.Helper()
	if err := w.Flush(); err != nil {
		t.Fatalf("flushing: %v", err)
	}
	var recs []Record
	for {
		r, err := w.Read()
		if errors.Is(err, ErrFlushed) {
			return recs
		}
		if err != nil {
			t.Fatalf("draining: %v", err)
		}
		recs = append(recs, r)
	}
}

// withPath returns the records whose first path is name.
func withPath(recs []Record, name string) []Record {
	var out []Record
	for _, r := range recs {
		if len(r.Paths) > 0 && r.Paths[0].Name == name {
			out = append(out, r)
		}
	}
	return out
}

// runScenario runs scenario in a child in a new PID namespace under a recorder for it, and
// returns the child, the recorder and every record once the child has ended.
func runScenario(t *testing.T, scenario string) (dir string, c *testChild, w *Watcher, recs []Record) {
	t.Helper()
	needRoot(t)
	dir = fixture(t)
	c = startChild(t, scenario, dir, true)
	w = load(t, c.cmd.Process.Pid)
	c.release(t)
	return dir, c, w, drain(t, w)
}

func TestDenials(t *testing.T) {
	dir, c, _, recs := runScenario(t, "denials")
	dfd, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(c.stdout.String()), "dfd="))
	if err != nil {
		t.Fatalf("the child's dirfd: %q", c.stdout.String())
	}
	locked := filepath.Join(dir, "locked")
	for _, tc := range []struct {
		name  string
		path  string
		nr    int
		errno unix.Errno
		check func(t *testing.T, r Record)
	}{
		{name: "root-only file", path: filepath.Join(dir, "secret"), nr: unix.SYS_OPENAT, errno: unix.EACCES, check: func(t *testing.T, r Record) {
			if int32(r.Args[0]) != unix.AT_FDCWD {
				t.Errorf("dirfd %d, want AT_FDCWD", int32(r.Args[0]))
			}
		}},
		{name: "relative to a dirfd", path: "secret", nr: unix.SYS_OPENAT, errno: unix.EACCES, check: func(t *testing.T, r Record) {
			if int32(r.Args[0]) != int32(dfd) {
				t.Errorf("dirfd %d, want %d", int32(r.Args[0]), dfd)
			}
		}},
		{name: "rename", path: filepath.Join(locked, "a"), nr: unix.SYS_RENAMEAT2, errno: unix.EACCES, check: func(t *testing.T, r Record) {
			if len(r.Paths) != 2 || r.Paths[1].Name != filepath.Join(locked, "b") || r.Paths[1].Arg != 3 {
				t.Errorf("paths %+v, want the destination second", r.Paths)
			}
		}},
		{name: "unlink", path: filepath.Join(locked, "a"), nr: unix.SYS_UNLINKAT, errno: unix.EACCES},
		{name: "mkdir", path: filepath.Join(locked, "new"), nr: unix.SYS_MKDIRAT, errno: unix.EACCES},
		{name: "mkdir read-only", path: filepath.Join(dir, "ro", "new"), nr: unix.SYS_MKDIRAT, errno: unix.EROFS},
		{name: "create read-only", path: filepath.Join(dir, "ro", "file"), nr: unix.SYS_OPENAT, errno: unix.EROFS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var found []Record
			for _, r := range withPath(recs, tc.path) {
				if r.Nr == tc.nr {
					found = append(found, r)
				}
			}
			if len(found) != 1 {
				t.Fatalf("%d records of call %d on %q, want 1; all: %+v", len(found), tc.nr, tc.path, recs)
			}
			r := found[0]
			if r.Errno != tc.errno {
				t.Errorf("errno %v, want %v", r.Errno, tc.errno)
			}
			if r.Pid != c.cmd.Process.Pid || r.Tid == 0 {
				t.Errorf("pid %d tid %d, want the child's host pid %d", r.Pid, r.Tid, c.cmd.Process.Pid)
			}
			if want := filepath.Base(os.Args[0]); len(want) > 15 && r.Comm != want[:15] || len(want) <= 15 && r.Comm != want {
				t.Errorf("comm %q, want the child's %q", r.Comm, want)
			}
			if r.Paths[0].Err != nil || r.Paths[0].Arg != 1 {
				t.Errorf("path %+v, want argument 1 read", r.Paths[0])
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
	t.Run("allowed open", func(t *testing.T) {
		if got := withPath(recs, filepath.Join(dir, "public")); len(got) != 0 {
			t.Errorf("records of an allowed open: %+v", got)
		}
	})
}

// TestPassOver: a failure passed over is neither sent nor lost (it is counted); the same
// path with other flags (the upper 32 bits of the argument too), relative, with a longer name, another call, a call of two paths
// and a pass-over that has expired are sent.
func TestPassOver(t *testing.T) {
	needRoot(t)
	dir := fixture(t)
	secret, locked := filepath.Join(dir, "secret"), filepath.Join(dir, "locked")
	if err := os.WriteFile(secret+"XY", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "passover", dir, true)
	w := load(t, c.cmd.Process.Pid)
	flags := uint64(unix.O_RDONLY | unix.O_CLOEXEC | unix.O_LARGEFILE) // openErr's, as x/sys/unix passes them
	for _, p := range []struct {
		nr   int
		path string
		d    time.Duration
	}{
		{unix.SYS_OPENAT, secret, time.Minute},
		{unix.SYS_UNLINKAT, filepath.Join(locked, "a"), time.Minute},
		{unix.SYS_RENAMEAT2, filepath.Join(locked, "a"), time.Minute},
		{unix.SYS_MKDIRAT, filepath.Join(locked, "new"), time.Nanosecond},
	} {
		f := flags
		if p.nr != unix.SYS_OPENAT {
			f = 0
		}
		if err := w.PassOver(p.nr, unix.EACCES, f, p.path, p.d); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.PassOver(unix.SYS_OPENAT, unix.EACCES, flags, "/"+strings.Repeat("a", keyPathMax-1), time.Minute); err == nil {
		t.Error("a path of keyPathMax bytes was taken")
	}
	c.release(t)
	recs := drain(t, w)
	count := func(nr int, path string) int {
		n := 0
		for _, r := range withPath(recs, path) {
			if r.Nr == nr {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		what string
		nr   int
		path string
		want int
	}{
		{"open secret: other flags only (O_NOFOLLOW, the upper 32 bits)", unix.SYS_OPENAT, secret, 2},
		{"open relative", unix.SYS_OPENAT, "secret", 1},
		{"open a longer name", unix.SYS_OPENAT, secret + "XY", 1},
		{"unlink", unix.SYS_UNLINKAT, filepath.Join(locked, "a"), 0},
		{"rename (two paths)", unix.SYS_RENAMEAT2, filepath.Join(locked, "a"), 1},
		{"mkdir (expired)", unix.SYS_MKDIRAT, filepath.Join(locked, "new"), 1},
	} {
		if got := count(tc.nr, tc.path); got != tc.want {
			t.Errorf("%s: %d records, want %d", tc.what, got, tc.want)
		}
	}
	for _, r := range withPath(recs, secret) {
		if r.Args[2] == flags {
			t.Errorf("the open passed over was sent: %+v", r)
		}
	}
	if n := w.PassedOver(); n != 5 {
		t.Errorf("%d passed over, want 5 (three opens, two unlinks)", n)
	}
}

func TestOutsideNamespace(t *testing.T) {
	needRoot(t)
	dir := fixture(t)
	inside := startChild(t, "open-secret", dir, true)
	w := load(t, inside.cmd.Process.Pid)
	startChild(t, "open-secret", dir, false).release(t)
	inside.release(t)
	got := withPath(drain(t, w), filepath.Join(dir, "secret"))
	if len(got) != 1 || got[0].Pid != inside.cmd.Process.Pid {
		t.Errorf("records %+v, want one, of the child in the namespace (pid %d)", got, inside.cmd.Process.Pid)
	}
}

func TestFlood(t *testing.T) {
	dir, _, w, recs := runScenario(t, "flood")
	got := uint64(len(withPath(recs, filepath.Join(dir, "secret"))))
	dropped := w.Dropped()
	t.Logf("%d records, %d dropped", got, dropped)
	if got == 0 || got+dropped != floodCount {
		t.Errorf("%d records and %d dropped, want some records and %d in all", got, dropped, floodCount)
	}
}

func TestCloseUnblocksRead(t *testing.T) {
	needRoot(t)
	w := load(t, os.Getpid())
	done := make(chan error)
	go func() {
		_, err := w.Read()
		done <- err
	}()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("read after close: %v, want ErrClosed", err)
	}
	if _, err := w.Read(); !errors.Is(err, ErrClosed) {
		t.Errorf("a second read after close: %v, want ErrClosed", err)
	}
}

func TestAvailable(t *testing.T) {
	needRoot(t)
	if err := Available(); err != nil {
		t.Errorf("as root on a kernel of 5.8 or later: %v", err)
	}
}
