package linux

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/userdirs"
)

// TestPrepareStateRoot refuses a state directory another user could stop or reach into: one
// they own, one anyone may enter, a symbolic link; and takes one that is the user's own.
func TestPrepareStateRoot(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, root string)
		want    string // in the error; "" for none
	}{
		{name: "missing", prepare: func(*testing.T, string) {}},
		{name: "own 0700", prepare: func(t *testing.T, root string) { mkdir(t, root, 0o700) }},
		{name: "mode 0777", want: "has mode 0777", prepare: func(t *testing.T, root string) {
			mkdir(t, root, 0o777)
		}},
		{name: "group readable", want: "has mode 0750", prepare: func(t *testing.T, root string) {
			mkdir(t, root, 0o750)
		}},
		{name: "symlink to own dir", want: "is a symbolic link", prepare: func(t *testing.T, root string) {
			target := filepath.Join(filepath.Dir(root), "elsewhere")
			mkdir(t, target, 0o700)
			if err := os.Symlink(target, root); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "a file", want: "is not a directory", prepare: func(t *testing.T, root string) {
			if err := os.WriteFile(root, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "another user's", want: "belongs to uid 65534", prepare: func(t *testing.T, root string) {
			if os.Geteuid() != 0 {
				t.Skip("giving a directory to another user needs root")
			}
			mkdir(t, root, 0o700)
			if err := os.Lchown(root, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "agentrun")
			tc.prepare(t, root)
			err := prepareStateRoot(root)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("prepareStateRoot: %v", err)
			case tc.want == "":
				if err := checkPrivateDir(root, os.Geteuid()); err != nil {
					t.Errorf("after prepareStateRoot: %v", err)
				}
			case err == nil:
				t.Fatalf("prepareStateRoot took it, want an error with %q", tc.want)
			case !errors.Is(err, errStateRoot) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "XDG_RUNTIME_DIR"):
				t.Errorf("error %q: want errStateRoot, %q and what to do", err, tc.want)
			}
		})
	}
}

// TestPrepareStateRootRuntimeDir checks $XDG_RUNTIME_DIR itself, as the XDG specification
// asks: the user's, mode 0700.
func TestPrepareStateRootRuntimeDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root keeps its state in /run/agentrun")
	}
	rt := filepath.Join(t.TempDir(), "rt")
	mkdir(t, rt, 0o755)
	t.Setenv("XDG_RUNTIME_DIR", rt)
	if err := prepareStateRoot(DefaultStateRoot()); err == nil || !strings.Contains(err.Error(), "$XDG_RUNTIME_DIR") {
		t.Errorf("a runtime directory of mode 0755: got %v, want an error naming $XDG_RUNTIME_DIR", err)
	}
	if err := os.Chmod(rt, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := prepareStateRoot(DefaultStateRoot()); err != nil {
		t.Errorf("a runtime directory of mode 0700: %v", err)
	}
}

// TestDefaultStateRootNotShared: without $XDG_RUNTIME_DIR an unprivileged user's state is
// under their own cache directory, never in /tmp.
func TestDefaultStateRootNotShared(t *testing.T) {
	if os.Geteuid() == 0 {
		if got := DefaultStateRoot(); got != "/run/agentrun" {
			t.Errorf("root's state root = %s, want /run/agentrun", got)
		}
		return
	}
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("XDG_CACHE_HOME", "/home/u/.cache")
	if got := DefaultStateRoot(); strings.HasPrefix(got, "/tmp") {
		t.Errorf("DefaultStateRoot = %s, in the shared /tmp", got)
	}
}

// TestPrepareStateRootCache: without a runtime directory the state root is made under the
// user's cache directory, with agentrun's directory above it, both the user's and 0700.
func TestPrepareStateRootCache(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root keeps its state in /run/agentrun")
	}
	cache := filepath.Join(t.TempDir(), "cache")
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("XDG_CACHE_HOME", cache)
	rt := DefaultRuntime()
	if rt.Kind != userdirs.RuntimeCache {
		t.Skipf("this user's state root is %s (/run/user is theirs), not in the cache", rt.Dir)
	}
	if want := filepath.Join(cache, "agentrun", "run"); rt.Dir != want || rt.Own() != filepath.Dir(want) {
		t.Fatalf("state root %s (own %s), want %s", rt.Dir, rt.Own(), want)
	}
	if err := prepareStateRoot(rt.Dir); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{rt.Own(), rt.Dir} {
		if err := checkPrivateDir(d, os.Geteuid()); err != nil {
			t.Errorf("after prepareStateRoot: %v", err)
		}
	}
}

func mkdir(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Mkdir(path, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

// raceAt makes fn run once, where the code under test reaches step (betweenSteps): another
// run's work, at the worst moment for this one.
func raceAt(t *testing.T, step string, fn func()) {
	t.Helper()
	done := false
	betweenSteps = func(s string) {
		if s == step && !done {
			done = true
			fn()
		}
	}
	t.Cleanup(func() { betweenSteps = nil })
}

// TestStateRootRemovedMeanwhile: a run that ends removes the state root when it is empty, also
// while another run is making it: that run makes it again.
func TestStateRootRemovedMeanwhile(t *testing.T) {
	root := filepath.Join(t.TempDir(), "state")
	raceAt(t, "state root made", func() {
		if err := os.Remove(root); err != nil {
			t.Fatal(err)
		}
	})
	if err := prepareStateRoot(root); err != nil {
		t.Fatal(err)
	}
	if err := checkPrivateDir(root, os.Geteuid()); err != nil {
		t.Fatal(err)
	}
}

// TestLockRunRacesCleanStale: another run's CleanStale may lock and remove a run's lock file
// between its creation and its lock (it looks like a dead run's then): the run's lock is still
// on the file at its path, which a later CleanStale leaves alone. And the other way round: a
// CleanStale that locks a lock file removed meanwhile (by a third run) must not remove the
// file now at its path, a live run's.
func TestLockRunRacesCleanStale(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "agentrun-live.lock")
	raceAt(t, "lock created", func() { CleanStale(root) })
	f, err := lockRun(root, "agentrun-live", true)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !stillAt(f, path) {
		t.Fatal("the run's lock is on a file CleanStale removed: its state root may go, and other runs take it for dead")
	}
	betweenSteps = nil
	CleanStale(root)
	if !stillAt(f, path) {
		t.Fatal("CleanStale removed a live run's lock file")
	}

	// The other way round: while CleanStale has opened a dead run's file and not yet locked
	// it, a third run removes it and a new run makes and locks a file at the same path.
	root = t.TempDir() // the dead run's file alone in it
	dead := filepath.Join(root, "agentrun-dead.lock")
	if err := os.WriteFile(dead, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var live *os.File
	raceAt(t, "lock created", func() {
		if err := os.Remove(dead); err != nil {
			t.Fatal(err)
		}
		betweenSteps = nil
		var err error
		if live, err = lockRun(root, "agentrun-dead", true); err != nil {
			t.Fatal(err)
		}
	})
	CleanStale(root)
	if live == nil {
		t.Fatal("CleanStale did not reach the dead run's lock file")
	}
	defer live.Close()
	if !stillAt(live, dead) {
		t.Fatal("CleanStale removed the lock file of a live run, made at the path of the one it locked")
	}
}
