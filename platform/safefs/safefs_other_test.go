//go:build !linux

package safefs

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/agentrun/agentrun/platform/windows/wintest"
)

// TestRootOther exercises the os.Root implementation (macOS, Windows; on Linux CI under
// wine): operations beneath the root work, leaving it or passing a link does not.
func TestRootOther(t *testing.T) {
	dir, err := os.MkdirTemp("", "safefs-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir) // best effort: wine 8 cannot delete as Go 1.26 asks
	outside, err := os.MkdirTemp("", "safefs-outside-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(outside)
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	if err := r.MkdirAll("a/b", 0o755, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteFile("a/b/f", []byte("hello"), 0o644, nil); err != nil {
		t.Fatal(err)
	}
	if b, err := r.ReadFile("a/b/f", 5); err != nil || string(b) != "hello" {
		t.Errorf("ReadFile = %q, %v", b, err)
	}
	if _, err := r.ReadFile("a/b/f", 4); err == nil {
		t.Error("ReadFile read more than max")
	}
	if _, err := r.ReadFile("a/b", 100); err == nil {
		t.Error("ReadFile read a directory")
	}
	if fi, err := r.Lstat("a/b/f"); err != nil || fi.Size() != 5 {
		t.Errorf("Lstat = %v, %v", fi, err)
	}
	if ents, err := r.ReadDir("a/b"); err != nil || len(ents) != 1 || ents[0].Name() != "f" {
		t.Errorf("ReadDir = %v, %v", ents, err)
	}
	if err := r.WriteFile("a/g", nil, 0o644, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Rename("a/b/f", "a/g", nil); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Rename onto an existing name: %v, want ErrExist", err)
	}
	if err := r.Rename("a/b/f", "a/h", nil); err != nil {
		t.Errorf("Rename: %v", err)
	}
	for _, bad := range []string{"../x", "a/../../x", "/abs"} {
		if _, err := r.Lstat(bad); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("Lstat(%q) = %v, want ErrUnsafePath", bad, err)
		}
		if _, err := r.OpenDir(bad); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("OpenDir(%q) = %v, want ErrUnsafePath", bad, err)
		}
	}
	listed := map[string]fs.FileMode{}
	if d, err := r.OpenDir("a"); err != nil {
		t.Errorf("OpenDir(a) = %v", err)
	} else if err := d.Entries(nil, func(name []byte, typ fs.FileMode) { listed[string(name)] = typ }); err != nil {
		t.Errorf("Entries of a: %v", err)
	}
	if len(listed) != 3 || listed["b"] != fs.ModeDir || listed["g"] != 0 || listed["h"] != 0 {
		t.Errorf("Entries of a = %v; want b a directory, g and h files", listed)
	}

	// A link inside the tree to a directory outside it is never followed.
	if wintest.UnderWine() {
		t.Skip("wine 8 makes symbolic links that its own NT calls cannot open: the link checks run on macOS and Windows")
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Skipf("cannot make a symbolic link here: %v", err)
	}
	if _, err := r.ReadFile("link/secret", 10); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("ReadFile through a link: %v, want ErrUnsafePath", err)
	}
	if err := r.WriteFile("link/new", nil, 0o644, nil); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("WriteFile through a link: %v, want ErrUnsafePath", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "new")); err == nil {
		t.Error("a file was written outside the root")
	}
	for _, through := range []string{"link", "link/."} {
		d, err := r.OpenDir(through)
		if err == nil {
			err = d.Entries(nil, func([]byte, fs.FileMode) {})
		}
		if !errors.Is(err, ErrUnsafePath) {
			t.Errorf("listing %q: %v, want ErrUnsafePath", through, err)
		}
	}
	if fi, err := r.Lstat("link"); err != nil || !isLink(fi.Mode()) {
		t.Errorf("Lstat(link) = %v, %v: the link itself", fi, err)
	}
	if err := r.Rename("link", "moved", nil); err != nil {
		t.Errorf("Rename of the link itself: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "secret")); err != nil {
		t.Errorf("the link's target moved: %v", err)
	}
}

// TestRootJunction: on Windows a junction (a mount point reparse point, which any user may
// make without the symbolic-link privilege) is a link too: never followed out of the root.
func TestRootJunction(t *testing.T) {
	if runtime.GOOS != "windows" {
		t.Skip("junctions are Windows'")
	}
	if wintest.UnderWine() {
		t.Skip("wine 8 has no junctions its own NT calls follow")
	}
	dir, outside := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cmd", "/c", "mklink", "/J", filepath.Join(dir, "j"), outside).CombinedOutput(); err != nil {
		t.Fatalf("mklink /J: %v: %s", err, out)
	}
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.ReadFile("j/secret", 10); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("ReadFile through a junction: %v, want ErrUnsafePath", err)
	}
	if err := r.WriteFile("j/new", nil, 0o644, nil); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("WriteFile through a junction: %v, want ErrUnsafePath", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "new")); err == nil {
		t.Error("a file was written outside the root")
	}
	for _, through := range []string{"link", "link/."} {
		d, err := r.OpenDir(through)
		if err == nil {
			err = d.Entries(nil, func([]byte, fs.FileMode) {})
		}
		if !errors.Is(err, ErrUnsafePath) {
			t.Errorf("listing %q: %v, want ErrUnsafePath", through, err)
		}
	}
	if err := r.WriteFile("plain", []byte("x"), 0o644, nil); err != nil {
		t.Errorf("a plain write beneath the root: %v", err)
	}
}
