//go:build linux

package safefs

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// tree makes dir/{a/f, a/link -> outside, linkdir -> outside} and an outside dir with a file.
func tree(t *testing.T) (*Root, string, string) {
	t.Helper()
	base := t.TempDir()
	ws, out := filepath.Join(base, "ws"), filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(ws, "a"), out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(ws, "a/f"), []byte("inside"), 0o640))
	must(os.WriteFile(filepath.Join(out, "config"), []byte("victim"), 0o644))
	must(os.Symlink(filepath.Join(out, "config"), filepath.Join(ws, "a/link")))
	must(os.Symlink(out, filepath.Join(ws, "linkdir")))
	r, err := OpenRoot(ws)
	must(err)
	t.Cleanup(func() { r.Close() })
	return r, ws, out
}

func TestRefusesLinksAndDotDot(t *testing.T) {
	r, _, out := tree(t)
	// Lstat names the link itself; the twin of the refusals.
	fi, err := r.Lstat("a/link")
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("Lstat(a/link) = %v, %v; want a symlink", fi, err)
	}
	if _, err := r.ReadFile("a/link", 1<<20); err == nil {
		t.Error("ReadFile(a/link) followed the link")
	}
	// Renaming or replacing a link moves or replaces the link, never its target.
	if err := r.Rename("a/link", "a/link2", nil); err != nil {
		t.Errorf("Rename(a/link): %v", err)
	}
	if err := r.WriteFile("a/link2", []byte("x"), 0o644, nil); err != nil {
		t.Errorf("WriteFile(a/link2): %v", err)
	}
	for _, rel := range []string{"linkdir/config", "../outside/config", "/etc/passwd", "a/../../outside/config"} {
		if _, err := r.ReadFile(rel, 1<<20); err == nil {
			t.Errorf("ReadFile(%q) succeeded", rel)
		}
		if err := r.Rename(rel, "a/moved", nil); err == nil {
			t.Errorf("Rename(%q) succeeded", rel)
		}
		if err := r.WriteFile(rel, []byte("x"), 0o644, nil); err == nil {
			t.Errorf("WriteFile(%q) succeeded", rel)
		}
	}
	if _, err := r.ReadFile("linkdir/config", 1<<20); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("a path through a link: got %v, want ErrUnsafePath", err)
	}
	if err := r.MkdirAll("linkdir/new", 0o755, nil); err == nil {
		t.Error("MkdirAll through a link succeeded")
	}
	if b, err := os.ReadFile(filepath.Join(out, "config")); err != nil || string(b) != "victim" {
		t.Errorf("the outside file changed: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(out, "new")); err == nil {
		t.Error("MkdirAll created a directory outside")
	}
}

func TestOperationsInside(t *testing.T) {
	r, ws, _ := tree(t)
	if b, err := r.ReadFile("a/f", 1<<20); err != nil || string(b) != "inside" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	if _, err := r.ReadFile("a/f", 2); err == nil {
		t.Error("ReadFile over the limit succeeded")
	}
	if err := r.WriteFile("a/f", []byte("new"), 0o600, nil); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(ws, "a/f"))
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("WriteFile did not keep the mode: %v %v", fi, err)
	}
	if err := r.Rename("a/f", "a/g", nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Rename("a/link", "a/g", nil); err == nil {
		t.Error("Rename over an existing file succeeded")
	}
	if err := r.MkdirAll("b/c/d", 0o755, nil); err != nil {
		t.Fatal(err)
	}
	ents, err := r.ReadDir("a")
	if err != nil || len(ents) != 2 || ents[0].Name() != "g" {
		t.Errorf("ReadDir(a) = %v, %v", ents, err)
	}
}

func TestAsUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: changes the file-system identity of a thread")
	}
	u, err := user.Lookup("agentrun-test")
	if err != nil {
		t.Skip("needs the user agentrun-test")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	id := &Identity{UID: uid, GID: gid}
	r, ws, _ := tree(t)
	os.Chmod(filepath.Dir(ws), 0o755)
	// A root-owned 0755 directory: root could write it, the user cannot.
	if err := r.WriteFile("a/x", []byte("x"), 0o644, id); err == nil {
		t.Error("writing into a root-owned directory as the user succeeded")
	}
	if err := os.Chown(filepath.Join(ws, "a"), uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteFile("a/x", []byte("x"), 0o644, id); err != nil {
		t.Fatalf("writing into the user's directory as the user: %v", err)
	}
	fi, err := os.Stat(filepath.Join(ws, "a/x"))
	if err != nil {
		t.Fatal(err)
	}
	if got := int(fi.Sys().(*syscallStat).Uid); got != uid {
		t.Errorf("the file belongs to uid %d, want %d", got, uid)
	}
	// The process itself kept root's identity.
	if err := os.WriteFile(filepath.Join(ws, "rootfile"), nil, 0o644); err != nil {
		t.Errorf("the process lost root's rights: %v", err)
	}
}

// The fallback for kernels without openat2 refuses the same paths.
func TestOpenByComponent(t *testing.T) {
	r, _, _ := tree(t)
	for _, rel := range []string{"linkdir/config", "a/link"} {
		if fd, err := r.openByComponent(rel, os.O_RDONLY, 0); err == nil {
			t.Errorf("openByComponent(%q) succeeded (fd %d)", rel, fd)
		}
	}
	fd, err := r.openByComponent("a/f", os.O_RDONLY, 0)
	if err != nil {
		t.Fatalf("openByComponent(a/f): %v", err)
	}
	os.NewFile(uintptr(fd), "f").Close()
}

// TestUnlockDir: the owner's read and search permissions come back on a directory of this
// user's, and nothing else changes: not another user's directory, not a link's target, not a
// directory that has them.
func TestUnlockDir(t *testing.T) {
	base := t.TempDir()
	for _, d := range []string{"locked", "open", "other", "target", "target/inner"} {
		if err := os.Mkdir(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("target", filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	for d, mode := range map[string]os.FileMode{"locked": 0o111, "other": 0o111, "target/inner": 0o111, "target": 0o111} {
		if err := os.Chmod(filepath.Join(base, d), mode); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, d := range []string{"locked", "other", "target", "target/inner"} {
			os.Chmod(filepath.Join(base, d), 0o755)
		}
	})
	otherOwned := os.Geteuid() == 0
	if otherOwned {
		if err := os.Chown(filepath.Join(base, "other"), 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	r, err := OpenRoot(base)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	mode := func(d string) os.FileMode {
		fi, err := os.Lstat(filepath.Join(base, d))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	if ok, err := r.UnlockDir("locked", nil); !ok || err != nil || mode("locked") != 0o711 {
		t.Errorf("UnlockDir(locked) = %v, %v; mode %o, want true and 0711", ok, err, mode("locked"))
	}
	if ok, err := r.UnlockDir("open", nil); ok || err != nil || mode("open") != 0o755 {
		t.Errorf("UnlockDir(open) = %v, %v; mode %o, want false and 0755 unchanged", ok, err, mode("open"))
	}
	if ok, err := r.UnlockDir("link", nil); ok || err == nil || mode("target") != 0o111 {
		t.Errorf("UnlockDir(link) = %v, %v; target mode %o, want an error (a link is no directory here) and the target unchanged", ok, err, mode("target"))
	}
	// Nor through a link on the way: beneath the root, never leaving it by a link.
	if ok, err := r.UnlockDir("link/inner", nil); ok || !errors.Is(err, ErrUnsafePath) || mode("target/inner") != 0o111 {
		t.Errorf("UnlockDir(link/inner) = %v, %v; mode %o, want an unsafe path and 0111 unchanged", ok, err, mode("target/inner"))
	}
	if otherOwned {
		// As root for the user who owns it (the after-run checks under sudo), it is theirs.
		if ok, err := r.UnlockDir("other", &Identity{UID: 65534, GID: 65534}); !ok || err != nil || mode("other") != 0o711 {
			t.Errorf("UnlockDir(other) for its owner = %v, %v; mode %o, want true and 0711", ok, err, mode("other"))
		}
		if err := os.Chmod(filepath.Join(base, "other"), 0o111); err != nil {
			t.Fatal(err)
		}
		if ok, err := r.UnlockDir("other", nil); ok || err != nil || mode("other") != 0o111 {
			t.Errorf("UnlockDir of another user's directory = %v, %v; mode %o, want false and 0111 unchanged", ok, err, mode("other"))
		}
	}
}
