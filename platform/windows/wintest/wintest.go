package wintest

import (
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
