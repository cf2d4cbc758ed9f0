package wintest

import (
	"runtime"
	"strings"
	"testing"
)

func TestSkipReason(t *testing.T) {
	for _, tc := range []struct {
		name, goos string
		wine       bool
		version    string
		want       string // a part of the reason; "" for no skip
	}{
		{name: "windows", goos: "windows"},
		{name: "wine", goos: "windows", wine: true, version: "8.0", want: "this is wine 8.0, which does not enforce them"},
		{name: "wine without version", goos: "windows", wine: true, want: "wine of unknown version"},
		{name: "linux", goos: "linux", want: "needs Windows itself, this is linux"},
		{name: "darwin", goos: "darwin", want: "this is darwin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := skipReason(tc.goos, tc.wine, tc.version)
			if tc.want == "" {
				if got != "" {
					t.Fatalf("skipReason = %q, want no skip", got)
				}
				return
			}
			if !strings.Contains(got, tc.want) || !strings.Contains(got, "windows-latest") {
				t.Fatalf("skipReason = %q, want it to say %q and where the test runs", got, tc.want)
			}
		})
	}
}

// TestRequireWindows: a test behind RequireWindows runs on Windows itself and only there.
func TestRequireWindows(t *testing.T) {
	ran := false
	var skipped bool
	t.Run("behind RequireWindows", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		RequireWindows(t)
		ran = true
	})
	wantRun := runtime.GOOS == "windows" && !UnderWine()
	if ran != wantRun || skipped == wantRun {
		t.Fatalf("GOOS %s, under wine %v: ran %v, skipped %v; want ran %v", runtime.GOOS, UnderWine(), ran, skipped, wantRun)
	}
	t.Logf("GOOS %s, under wine %v (version %q): the test behind RequireWindows ran: %v", runtime.GOOS, UnderWine(), WineVersion(), ran)
}
