package benchkit

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestUserOwn gives a tree to a user: every file and directory, and a symbolic link itself,
// not what it leads to (outside the tree here).
func TestUserOwn(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: chown to another user")
	}
	dir, outside := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a", "b", "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	u := &User{UID: 4242, GID: 4343}
	if err := u.Own(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Join(dir, "a"), filepath.Join(dir, "a", "b", "f"), filepath.Join(dir, "link")} {
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			t.Fatal(err)
		}
		if st.Uid != 4242 || st.Gid != 4343 {
			t.Errorf("%s: %d:%d, want 4242:4343", p, st.Uid, st.Gid)
		}
	}
	var st syscall.Stat_t
	if err := syscall.Stat(outside, &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 0 {
		t.Errorf("the link's target outside the tree was given away: uid %d", st.Uid)
	}
}
