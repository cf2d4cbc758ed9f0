package fileaudit

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadProcFile reads what os.ReadFile reads, from /proc and from a file longer than its
// first buffer, and stops at its limit.
func TestReadProcFile(t *testing.T) {
	long := filepath.Join(t.TempDir(), "long")
	if err := os.WriteFile(long, []byte(strings.Repeat("0123456789", 2000)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/proc/self/stat", "/proc/self/cmdline", long} {
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readProcFile(p, 0)
		if err != nil || !bytes.Equal(got, want) && !strings.HasPrefix(p, "/proc/self/stat") {
			t.Errorf("readProcFile(%q) = %d bytes, %v; os.ReadFile read %d", p, len(got), err, len(want))
		}
	}
	for _, limit := range []int{10, 4096, 5000} {
		if got, err := readProcFile(long, limit); err != nil || len(got) != limit {
			t.Errorf("readProcFile(long, %d) = %d bytes, %v", limit, len(got), err)
		}
	}
	if _, err := readProcFile("/proc/self/nonexistent", 0); !os.IsNotExist(err) {
		t.Errorf("a missing file: %v, want not-exist", err)
	}
}
