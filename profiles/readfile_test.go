package profiles

import (
	"errors"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/platform/windows/wintest"
)

// A profile file that cannot be read is said as every other finding is: "FILE: why", the
// system's own why, not "reading profile: open FILE: …".
func TestReadFileErrors(t *testing.T) {
	dir := wintest.TempDir(t)
	missing := filepath.Join(dir, "missing.yaml")
	_, err := ReadFile(missing)
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), missing+": ") || strings.Contains(err.Error(), "open ") {
		t.Errorf("ReadFile(%q) = %v; want %q and why, wrapping fs.ErrNotExist", missing, err, missing+": ")
	}
	if runtime.GOOS == "windows" {
		return // reading a directory: each system says it its own way
	}
	if _, err := ReadFile(dir); err == nil || err.Error() != dir+": is a directory" {
		t.Errorf("ReadFile(%q) = %v; want %q", dir, err, dir+": is a directory")
	}
}
