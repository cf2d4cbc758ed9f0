package fileaudit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// viewTree makes a small root with the symlinks an agent would plant, and a view of it.
func viewTree(t testing.TB) (string, *agentView) {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"etc/ssh", "ws/sub", "dev"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"etc/shadow", "etc/ssh/key", "ws/f"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range map[string]string{
		"ws/up": "../etc/ssh", "ws/abs": "/etc", "ws/loop1": "loop2", "ws/loop2": "loop1", "ws/self": ".",
		"ws/dotdot": "../..", "ws/deep": "sub/../../etc", "ws/dangling": "/nowhere/x", "ws/tofile": "f",
		"ws/sub/back": "../up/../shadow", "dev/fd": "/proc/self/fd",
	} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mkfifo(filepath.Join(root, "ws/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	v := &agentView{root: fd, tid: unix.Gettid()}
	t.Cleanup(v.close)
	return root, v
}

// kernelResolve is what the kernel itself reaches for full in root: openat2 with
// RESOLVE_IN_ROOT, read back. ok is false when the kernel's lookup fails.
func kernelResolve(root string, v *agentView, full string, follow bool) (string, bool) {
	flags := unix.O_PATH | unix.O_CLOEXEC
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	for {
		fd, err := unix.Openat2(v.root, full, &unix.OpenHow{Flags: uint64(flags), Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS})
		if err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return "", false
		}
		defer unix.Close(fd)
		p, err := fdPath(fd)
		if err != nil {
			return "", false
		}
		if p == root {
			return "/", true
		}
		return strings.TrimPrefix(p, root), true
	}
}

// checkAgainstKernel resolves full both ways and compares.
func checkAgainstKernel(t *testing.T, root string, v *agentView, full string, follow bool) {
	t.Helper()
	want, ok := kernelResolve(root, v, full, follow)
	got := v.resolve(full, follow, false)
	walked, err := walkPath(v, full, follow)
	if !ok {
		if got.exists || (err == nil && walked.kind != nodeMissing) {
			t.Fatalf("%q (follow %v): the kernel finds nothing, resolve says %q exists (walk: %q, %v)", full, follow, got.path, walked.path, err)
		}
		return
	}
	if !got.exists || got.path != want {
		t.Fatalf("%q (follow %v): resolve = %q (exists %v), the kernel reaches %q", full, follow, got.path, got.exists, want)
	}
	if err != nil || walked.path != want || walked.kind == nodeMissing {
		t.Fatalf("%q (follow %v): walk = %q (kind %d, %v), the kernel reaches %q", full, follow, walked.path, walked.kind, err, want)
	}
}

func TestAgentViewMatchesKernel(t *testing.T) {
	root, v := viewTree(t)
	for _, full := range []string{
		"/etc/shadow", "/ws/up/key", "/ws/up/../shadow", "/ws/abs/ssh/../shadow", "/ws/self/self/f", "/ws/dotdot/etc/shadow",
		"/ws/deep/shadow", "/ws/sub/back", "/ws/loop1", "/ws/dangling", "/ws/tofile/", "/ws/f/..", "/../../etc", "/ws/abs/",
		"/ws/fifo", "/ws/nothing", "/ws/nothing/x", "/ws/abs/.", "/ws/sub/..",
	} {
		for _, follow := range []bool{true, false} {
			checkAgainstKernel(t, root, v, full, follow)
		}
	}
}

// TestAgentViewShortcutsAgreeWithTheWalk: what resolve's shortcuts give (one lookup for a path
// without symlinks; for a missing last element, one more for its directory) is what the walk
// gives, for existing and missing paths, behind symlinks, under a file, below a missing
// directory, with and without following the last element.
func TestAgentViewShortcutsAgreeWithTheWalk(t *testing.T) {
	_, v := viewTree(t)
	for _, full := range []string{
		"/etc/shadow", "/ws/f", "/ws/new", "/ws/sub/new", "/etc/ssh/new", "/new", "/ws/nothing/x", "/ws/nothing/x/y",
		"/ws/f/new", "/ws/up/new", "/ws/abs/new", "/ws/dangling", "/ws/tofile", "/ws/loop1", "/ws/fifo", "/dev/fd/new",
	} {
		for _, follow := range []bool{true, false} {
			checkShortcuts(t, v, full, follow)
		}
	}
}

// checkShortcuts compares resolve with the walk alone.
func checkShortcuts(t *testing.T, v *agentView, full string, follow bool) {
	t.Helper()
	got, want := v.resolve(full, follow, false), v.walkResolve(full, follow, false)
	if got.path != want.path || got.exists != want.exists || got.dir != want.dir || got.dev != want.dev || got.mode != want.mode || (got.err == nil) != (want.err == nil) {
		t.Errorf("%q (follow %v): resolve = %+v, the walk = %+v", full, follow, got, want)
	}
}

// TestAgentViewNeverOpensFIFO: a FIFO, reached directly or through a symlink, is looked at and
// its #! line not read; nothing waits for a writer.
func TestAgentViewNeverOpensFIFO(t *testing.T) {
	root, v := viewTree(t)
	if err := os.Symlink("/ws/fifo", filepath.Join(root, "ws/tofifo")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/ws/fifo", "/ws/tofifo"} {
		r := v.resolve(p, true, true)
		if !r.exists || r.path != "/ws/fifo" || r.mode&unix.S_IFMT != unix.S_IFIFO || r.fd < 0 {
			t.Fatalf("resolve(%q) = %+v, want the FIFO", p, r)
		}
		if head, _ := readScriptHead(r.fd); head != nil {
			t.Errorf("readScriptHead of a FIFO = %q", head)
		}
		unix.Close(r.fd)
	}
	// The control: a script is read.
	script := filepath.Join(root, "ws/script")
	if err := os.WriteFile(script, []byte("#!/etc/ssh/key\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := v.resolve("/ws/script", true, true)
	defer unix.Close(r.fd)
	if head, _ := readScriptHead(r.fd); shebang(head) != "/etc/ssh/key" {
		t.Errorf("the script's interpreter = %q", shebang(head))
	}
}

// TestAgentViewProcLinks: /proc/self, /proc/PID/root and cwd, /dev/fd/N lead where the
// process's own kernel would take it, read through this test's own /proc.
func TestAgentViewProcLinks(t *testing.T) {
	fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	v := &agentView{root: fd, tid: unix.Gettid()}
	defer v.close()
	f, err := os.Open("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cwd, _ := os.Getwd()
	n := strconv.Itoa(int(f.Fd()))
	for full, want := range map[string]string{
		"/proc/self/root/etc/passwd":                             "/etc/passwd",
		"/proc/" + strconv.Itoa(os.Getpid()) + "/root/etc/hosts": "/etc/hosts",
		"/proc/thread-self/root/etc/passwd":                      "/etc/passwd",
		"/proc/self/fd/" + n:                                     "/etc/passwd",
		"/dev/fd/" + n:                                           "/etc/passwd",
		"/proc/self/cwd":                                         cwd,
		"/proc/self/root/proc/self/root/etc/../etc/passwd":       "/etc/passwd",
	} {
		r := v.resolve(full, true, false)
		if !r.exists || r.path != want {
			t.Errorf("resolve(%q) = %q (exists %v), want %q", full, r.path, r.exists, want)
		}
	}
	// Not followed, a magic link is itself.
	if r := v.resolve("/proc/self/root", false, false); r.path != "/proc/"+strconv.Itoa(os.Getpid())+"/root" {
		t.Errorf("resolve(/proc/self/root, nofollow) = %q", r.path)
	}
}

// FuzzAgentView resolves any name (relative ones from /ws/sub) in a real tree of symlinks and
// compares with where the kernel's own openat2 lands.
func FuzzAgentView(f *testing.F) {
	for _, s := range []string{
		"/ws/up/../shadow", "../deep/ssh/key", "/ws/self/dotdot/ws/abs/", "back", "../loop1/x", "/ws/tofile/.",
		"../../../etc/./ssh//key", "/ws/dangling", "../fifo",
	} {
		f.Add([]byte(s), true)
	}
	root, v := viewTree(f)
	f.Fuzz(func(t *testing.T, raw []byte, follow bool) {
		full, ok := eventPath(raw, "/ws/sub")
		if !ok {
			return
		}
		if strings.Contains(full, "dev/fd") || strings.Contains(full, "proc") {
			return // the kernel's RESOLVE_IN_ROOT refuses magic links; the walk follows them
		}
		checkAgainstKernel(t, root, v, full, follow)
		checkShortcuts(t, v, full, follow)
	})
}

// TestAgentViewGoneProcess: for a refusal read after its process ended (goneCwd set), the
// process's /proc/self is the sandbox's PID 1, its root the shared root and its cwd the
// working directory taken for it (marked guessed); a descriptor it held leads nowhere; while
// without goneCwd the same paths cannot be placed at all.
func TestAgentViewGoneProcess(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	gone := cmd.Process.Pid // reaped: no /proc entry
	v := goneView(t, gone)
	for full, want := range map[string]string{
		"/proc/self/cwd/passwd":        "/etc/passwd",
		"/proc/self/root/etc/hosts":    "/etc/hosts",
		"/proc/thread-self/cwd/passwd": "/etc/passwd",
	} {
		v.guessed = false
		r := v.resolve(full, true, false)
		if !r.exists || r.path != want {
			t.Errorf("resolve(%q) = %q (exists %v, %v), want %q", full, r.path, r.exists, r.err, want)
		}
		if v.guessed != strings.Contains(full, "cwd") {
			t.Errorf("resolve(%q): guessed %v", full, v.guessed)
		}
	}
	if r := v.resolve("/proc/self/fd/0", true, false); r.exists {
		t.Errorf("a descriptor of a process that has ended was placed: %q", r.path)
	}
	for dir, want := range map[string]bool{"/proc/12/": true, "/proc/12/task/13/": true, "/proc/self/": false, "/proc/12/fd/": false, "/etc/": false} {
		if got := goneProcDir(dir); got != want {
			t.Errorf("goneProcDir(%q) = %v", dir, got)
		}
	}
	w := &agentView{root: v.root, tid: gone}
	if r := w.resolve("/proc/self/cwd/passwd", true, false); r.exists {
		t.Errorf("without goneCwd, a process that has ended placed its cwd: %q", r.path)
	}
	// A process whose exit has begun answers ESRCH for its magic links (the sandbox's PID 1
	// as the run ends: TestAuditHostilePathsAsRoot's /proc/1/root read once in ≈ 40 runs).
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{unix.ENOENT, true},
		{unix.ESRCH, true},
		{&os.PathError{Op: "open", Path: "/proc/1/status", Err: unix.ESRCH}, true},
		{unix.EACCES, false},
		{nil, false},
	} {
		if got := ended(tc.err); got != tc.want {
			t.Errorf("ended(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestAgentViewEndingProcess is TestAgentViewGoneProcess's way around: a refusal read while its
// process is a zombie (its exit done, not yet reaped, so that /proc still lists it and its
// status still reads, but its root and cwd lead nowhere). Its /proc/self is itself, and its
// root and cwd are still placed as those of a process that has ended — not left as a /proc path.
func TestAgentViewEndingProcess(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	pid := cmd.Process.Pid
	awaitZombie(t, pid)
	v := goneView(t, pid)
	for full, want := range map[string]string{
		"/proc/self/root/etc/hosts":                  "/etc/hosts",
		"/proc/" + strconv.Itoa(pid) + "/cwd/passwd": "/etc/passwd",
	} {
		if r := v.resolve(full, true, false); !r.exists || r.path != want {
			t.Errorf("resolve(%q) = %q (exists %v, %v), want %q", full, r.path, r.exists, r.err, want)
		}
	}
}

// awaitZombie returns once process pid has exited: a zombie until it is reaped.
func awaitZombie(t *testing.T, pid int) {
	t.Helper()
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			t.Fatal(err)
		}
		if f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:])); len(f) > 0 && f[0] == "Z" {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// TestAgentViewProcessEndsDuringLookup: a refusal's process may end while its path is
// looked up, between any two of the lookup's system calls, not only before it (the flake of
// TestAuditHostilePathsAsRoot: the sandbox's PID 1 ended between the open of /proc/1/root
// and that of /proc/1/, and the read of /etc/shadow was left as a /proc path, which the judge
// takes for the sandbox's own). At each step in turn the process is ended, left a zombie or
// reaped: the path is still placed where it led.
func TestAgentViewProcessEndsDuringLookup(t *testing.T) {
	for _, reap := range []bool{false, true} {
		for spelt, want := range map[string]string{
			"/proc/PID/root/etc/../etc/hosts": "/etc/hosts",
			"/proc/PID/cwd/passwd":            "/etc/passwd",
			"/proc/self/root/etc/hosts":       "/etc/hosts",
			"/proc/self/cwd/../etc/hosts":     "/etc/hosts",
		} {
			for step := 1; ; step++ {
				cmd := exec.Command("sleep", "60")
				cmd.Dir = "/etc"
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				pid := cmd.Process.Pid
				v := goneView(t, pid)
				calls := 0
				v.afterCall = func() {
					if calls++; calls != step {
						return
					}
					_ = cmd.Process.Kill()
					if reap {
						_ = cmd.Wait()
					} else {
						awaitZombie(t, pid)
					}
				}
				full := strings.Replace(spelt, "PID", strconv.Itoa(pid), 1)
				r := v.resolve(full, true, false)
				endedIn := calls >= step
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				if !r.exists || r.path != want {
					t.Errorf("resolve(%q), the process ended (reaped: %v) after call %d: %q (exists %v, %v), want %q", spelt, reap, step, r.path, r.exists, r.err, want)
				}
				if !endedIn {
					break // every step has had its turn
				}
			}
		}
	}
}

// goneView is a view of the host's root for thread tid, for refusals read after their calls:
// a process that has ended is taken to have worked in /etc.
func goneView(t *testing.T, tid int) *agentView {
	t.Helper()
	fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	v := &agentView{root: fd, tid: tid, goneCwd: "/etc"}
	t.Cleanup(v.close)
	return v
}
