package wintest

import (
	"os"
	"runtime"
	"testing"
)

// RequireWindows skips t unless it runs on Windows itself: on another OS, and under wine,
// it skips saying why and where the test does run.
func RequireWindows(t testing.TB) {
	t.Helper()
	if reason := skipReason(runtime.GOOS, UnderWine(), WineVersion()); reason != "" {
		t.Skip(reason)
	}
}

// skipReason is why a test that needs Windows itself cannot run here, or "" when it can.
func skipReason(goos string, wine bool, version string) string {
	const where = "; it runs on GitHub's windows-latest runner (.github/workflows/windows.yml)"
	switch {
	case goos != "windows":
		return "needs Windows itself, this is " + goos + where
	case wine:
		if version == "" {
			version = "of unknown version"
		}
		return "needs Windows itself (AppContainer, ACLs, Job Objects), this is wine " + version +
			", which does not enforce them" + where
	}
	return ""
}

// TempDir is t.TempDir, except under wine: wine 8 cannot delete files the way Go 1.26's
// os.RemoveAll asks it to ("Invalid function", a disposition class it lacks), which would fail
// every test at cleanup. There the directory is left for the wine prefix's removal
// (scripts/wine-test.sh removes the whole prefix).
func TempDir(t testing.TB) string {
	t.Helper()
	if !UnderWine() {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", "wintest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}
