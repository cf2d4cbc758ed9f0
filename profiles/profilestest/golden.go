package profilestest

import (
	"os"
	"path/filepath"
	"testing"
)

// Golden compares got with testdata/NAME, or writes it there when update is set; pkg is the
// package path to name in the hint (go test ./PKG -update).
func Golden(t testing.TB, pkg, name string, got []byte, update bool) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./%s -update)", err, pkg)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs; run go test ./%s -update and review the diff\n%s", path, pkg, got)
	}
}
