package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/events"
)

// Paths the agent chooses are hostile: agentrun never opens them in the host's view (a FIFO
// there would hang it, a symlink would make it open a host file), and judges what they reach,
// not how they are spelt (/proc/self/root/etc/shadow is /etc/shadow; a workspace under /tmp is
// the host's).

// hostFIFO makes a FIFO outside the sandbox (beside the fixture home, which no profile binds)
// and watches it for an opener: opened reports whether anyone opened it for reading. The
// watcher's blocking open for writing returns only then; the cleanup releases it.
func hostFIFO(t *testing.T, r *runner) (path string, opened func() bool, done <-chan struct{}) {
	t.Helper()
	path = filepath.Join(filepath.Dir(r.home), "hostfifo")
	if err := unix.Mkfifo(path, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	var got atomic.Bool
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0) // blocks until a reader comes
		if err == nil {
			got.Store(true)
			unix.Close(fd)
		}
	}()
	t.Cleanup(func() {
		// Be the reader the watcher waits for (if it still waits), then remove the FIFO.
		if fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err == nil {
			<-watched
			unix.Close(fd)
		}
		os.Remove(path)
	})
	return path, got.Load, watched
}

func testHostilePaths(t *testing.T, unprivileged bool) {
	r := newRunner(t, unprivileged)
	if unprivileged {
		usableTUN(t) // audit mode lets the agent out, through the filter
	}

	t.Run("exec of a FIFO ends and its events are stored", func(t *testing.T) {
		for _, mode := range []string{"audit", "enforce"} {
			res := r.sh(t, `mkfifo fifo && chmod +x fifo; ./fifo; echo "exec: $?"; cat ~/.aws/credentials >/dev/null 2>&1; echo end`, r.modeArgs(mode)...)
			os.Remove(filepath.Join(r.ws, "fifo"))
			if res.code != 0 || !strings.Contains(res.stdout, "end") {
				t.Fatalf("%s: the run did not end cleanly: %s", mode, res)
			}
			// The control: the read that follows the FIFO's exec is stored.
			evs := storedEvents(t, r, "--run", runID(t, res))
			if _, ok := findEvent(evs, "file read "+r.home+"/.aws/credentials"); !ok {
				t.Errorf("%s: the denied read after the FIFO's exec is not stored (%d events)", mode, len(evs))
			}
		}
	})

	t.Run("exec through a symlink to a host FIFO does not open it", func(t *testing.T) {
		fifo, opened, watched := hostFIFO(t, r)
		for _, mode := range []string{"audit", "enforce"} {
			res := r.sh(t, `ln -sf "$HOME/../hostfifo" x && ./x; echo "exec: $?"`, "--mode", mode)
			os.Remove(filepath.Join(r.ws, "x"))
			if res.code != 0 || !strings.Contains(res.stdout, "exec: ") {
				t.Fatalf("%s: %s", mode, res)
			}
			if opened() {
				t.Fatalf("%s: something opened the host FIFO %s the agent's symlink named", mode, fifo)
			}
		}
		// The control: the watcher does see a reader.
		fd, err := unix.Open(fifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		<-watched
		if !opened() {
			t.Error("the watcher did not see the test's own reader")
		}
	})

	t.Run("a script's interpreter is judged through a symlink", func(t *testing.T) {
		// The control of the one above: a script reached through a symlink has its #! line
		// read (in the agent's view) and its interpreter judged.
		sh, err := os.ReadFile("/bin/sh")
		if err != nil {
			t.Fatal(err)
		}
		writeOwned(t, r, filepath.Join(r.home, "tools/mysh"), string(sh))
		writeOwned(t, r, filepath.Join(r.home, "tools/run"), "#!"+r.home+"/tools/mysh\necho mysh ran\n")
		for _, f := range []string{"tools/mysh", "tools/run"} {
			if err := os.Chmod(filepath.Join(r.home, f), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		res := r.sh(t, `ln -sf "$HOME/tools/run" runit && ./runit; rm -f runit`, "--mode", "audit")
		if res.code != 0 || !strings.Contains(res.stdout, "mysh ran") {
			t.Fatalf("%s", res)
		}
		evs := storedEvents(t, r, "--run", runID(t, res))
		for _, p := range []string{"/tools/run", "/tools/mysh"} {
			if _, ok := findEvent(evs, "exec exec "+r.home+p); !ok {
				t.Errorf("the exec of %s (through a symlink, or by #!) is not recorded: %v", p, keys(evs))
			}
		}
	})

	t.Run("/proc/self/root is judged as the path it reaches", func(t *testing.T) {
		profiles := filepath.Join(r.home, ".config/agentrun/profiles")
		for _, name := range []string{"shadowed", "clean"} {
			writeOwned(t, r, filepath.Join(profiles, name+".yaml"), "name: "+name+"\nextends: [base]\n")
		}
		for _, p := range []string{"/proc/self/root/etc/shadow", "/proc/1/root/etc/../etc/shadow", "/dev/fd/../../self/cwd/../../../../../../../../../etc/shadow"} {
			res := r.run(t, "--mode", "audit", "--profile", "shadowed", "--network", "none", "--", "cat", p)
			evs := storedEvents(t, r, "--run", runID(t, res))
			e, ok := findEvent(evs, "file read /etc/shadow")
			if !ok || e.Verdict != events.WouldDeny {
				t.Errorf("cat %s in audit mode: want would-deny file read /etc/shadow, got %v", p, keys(evs))
			}
		}
		if res := r.run(t, "report", "shadowed"); res.code != 1 || !strings.Contains(res.stdout, "not ready") {
			t.Errorf("report after reading /etc/shadow through /proc/self/root: want not ready, got %s", res)
		}
		// The control: the same spelling of an allowed file records nothing, and the profile
		// is ready.
		res := r.run(t, "--mode", "audit", "--profile", "clean", "--network", "none", "--", "cat", "/proc/self/root/etc/passwd")
		if res.code != 0 {
			t.Fatalf("%s", res)
		}
		if res := r.run(t, "report", "clean"); res.code != 0 || !strings.Contains(res.stdout, "ready") {
			t.Errorf("report after reading /etc/passwd through /proc/self/root: want ready, got %s", res)
		}
	})

	t.Run("a workspace under /tmp is judged", func(t *testing.T) {
		ws, err := os.MkdirTemp("/tmp", "agentrun-ws-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(ws) })
		for _, args := range [][]string{{"init", "-q"}} {
			cmd := exec.Command("git", args...)
			cmd.Dir = ws
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("git %v: %v: %s", args, err, out)
			}
		}
		if unprivileged {
			if out, err := exec.Command("chown", "-R", r.name, ws).CombinedOutput(); err != nil {
				t.Fatalf("chown: %v: %s", err, out)
			}
		}
		tr := *r
		tr.ws = ws
		hook := ws + "/.git/hooks/pre-commit"
		for _, mode := range []string{"enforce", "audit"} {
			res := tr.sh(t, `echo ok > made.txt && cat made.txt; echo evil > .git/hooks/pre-commit; echo "hook: $?"`, r.modeArgs(mode)...)
			if res.code != 0 || !strings.Contains(res.stdout, "ok\n") {
				t.Fatalf("%s: the workspace under /tmp is not writable: %s", mode, res)
			}
			evs := storedEvents(t, r, "--run", runID(t, res))
			e, ok := findEvent(evs, "file create "+hook)
			want := events.Denied
			if mode == "audit" {
				want = events.WouldDeny
			}
			if !ok || e.Verdict != want {
				t.Errorf("%s: the write to the protected hook under /tmp is not recorded as %s: %v", mode, want, keys(evs))
			}
			if e, ok := findEvent(evs, "file create "+ws+"/made.txt"); ok && e.Verdict != events.Allowed { // --trace records it as allowed
				t.Errorf("%s: the allowed write in the workspace is recorded as denied", mode)
			}
			os.Remove(filepath.Join(ws, "made.txt"))
			os.Remove(hook)
		}
	})
}

func keys(evs []events.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Verdict)+" "+eventKey(e))
	}
	return out
}

func TestAuditHostilePathsAsRoot(t *testing.T)       { testHostilePaths(t, false) }
func TestAuditHostilePathsUnprivileged(t *testing.T) { testHostilePaths(t, true) }
