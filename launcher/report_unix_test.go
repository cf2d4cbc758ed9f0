//go:build unix

package launcher

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestCheckReportPathRefusesNonFiles: the report replaces the file it names when the run
// ends, so a device (as root, --report /dev/full made /dev/full a file), a pipe, or a link to
// one (/dev/stdout) is refused before the run; a link to a file is not.
func TestCheckReportPathRefusesNonFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	toDevice := filepath.Join(dir, "stdout")
	if err := os.Symlink("/dev/null", toDevice); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file.json")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	toFile := filepath.Join(dir, "latest.json")
	if err := os.Symlink(file, toFile); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"/dev/null", fifo, toDevice} {
		if err := checkReportPath(bad); err == nil || !strings.Contains(err.Error(), "is not a regular file") {
			t.Errorf("checkReportPath(%q) = %v; want it refused as no regular file", bad, err)
		}
	}
	if err := checkReportPath(toFile); err != nil {
		t.Errorf("checkReportPath(%q), a link to a file: %v", toFile, err)
	}
}
