package profiles

import (
	"path/filepath"
	"testing"
)

// A profile file that cannot be read is said as every other finding is: "FILE: why".
func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.yaml")
	for name, want := range map[string]string{
		missing: missing + ": no such file or directory",
		dir:     dir + ": is a directory",
	} {
		_, err := ReadFile(name)
		if err == nil || err.Error() != want {
			t.Errorf("ReadFile(%q) = %v; want %q", name, err, want)
		}
	}
}
