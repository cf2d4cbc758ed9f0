package launcher

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A report path that could not be written when the run ends is refused before it starts;
// one that can be is taken.
func TestCheckReportPath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ok := range []string{"", "-", filepath.Join(dir, "report.json"), file} {
		if err := checkReportPath(ok); err != nil {
			t.Errorf("checkReportPath(%q): %v", ok, err)
		}
	}
	for bad, says := range map[string]string{
		filepath.Join(dir, "missing", "report.json"): "name a file in an existing directory",
		filepath.Join(file, "report.json"):           "is not a directory",
		dir:                                          "is a directory",
	} {
		err := checkReportPath(bad)
		if err == nil || !strings.Contains(err.Error(), says) || !strings.Contains(err.Error(), "--report") {
			t.Errorf("checkReportPath(%q) = %v; want an error about --report saying %q", bad, err, says)
		}
	}
}
