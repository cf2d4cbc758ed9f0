package linux

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRemoveSkeleton removes a tree of empty mount points, and leaves alone anything with
// content, so a leftover mount of the user's files could never be deleted through it.
func TestRemoveSkeleton(t *testing.T) {
	dir := t.TempDir()
	skel := filepath.Join(dir, "rootfs")
	for _, d := range []string{"usr/bin", "home/u/proj", ".agentrun"} {
		if err := os.MkdirAll(filepath.Join(skel, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(skel, ".agentrun/agentrun"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("usr/bin", filepath.Join(skel, "bin")); err != nil {
		t.Fatal(err)
	}
	if err := removeSkeleton(skel); err != nil {
		t.Fatalf("removing an empty skeleton: %v", err)
	}
	if _, err := os.Stat(skel); !os.IsNotExist(err) {
		t.Fatalf("skeleton still there: %v", err)
	}

	if err := os.MkdirAll(filepath.Join(skel, "home/u"), 0o755); err != nil {
		t.Fatal(err)
	}
	precious := filepath.Join(skel, "home/u/work.txt")
	if err := os.WriteFile(precious, []byte("user data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := removeSkeleton(skel); err == nil {
		t.Error("removeSkeleton removed a tree that holds a file with content")
	}
	if b, err := os.ReadFile(precious); err != nil || string(b) != "user data" {
		t.Errorf("the file with content was touched: %q, %v", b, err)
	}
}
