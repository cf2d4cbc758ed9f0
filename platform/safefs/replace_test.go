package safefs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/agentrun/agentrun/platform/windows/wintest"
)

// TestReplaceFile: the new content is in place with its mode, a link in its place is replaced
// and what it led to left alone, and nothing is left beside it.
func TestReplaceFile(t *testing.T) {
	dir := wintest.TempDir(t) // wine 8 cannot remove files as Go 1.26 asks
	p, other := filepath.Join(dir, "f"), filepath.Join(dir, "other")
	if err := os.WriteFile(other, []byte("other"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, p); err != nil {
		t.Skipf("cannot make links here: %v", err)
	}
	if err := ReplaceFile(p, []byte("new"), 0o600, -1, -1); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("%s is %v (%v), want a regular file", p, fi, err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Errorf("%s holds %q", p, b)
	}
	if b, _ := os.ReadFile(other); string(b) != "other" {
		t.Errorf("the link's target was written: %q", b)
	}
	if fi.Mode().Perm() != 0o600 && os.PathSeparator == '/' {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("left beside it: %v", ents)
	}
}
