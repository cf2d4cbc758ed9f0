package wsb

import (
	"errors"
	"strings"
	"testing"
)

func TestDoctor(t *testing.T) {
	for _, tc := range []struct {
		name string
		host Host
		want []string
		not  []string
	}{
		{"not windows", Host{}, []string{"runs only on Windows", "`agentrun compile --target wsb` writes the file on any OS"}, []string{"fix:"}},
		{"not enabled", Host{Windows: true, Feature: "Disabled"},
			[]string{"feature Containers-DisposableClientVM: Disabled", "wsb command (Windows 11 24H2+): not found", "refuses to run", "Enable-WindowsOptionalFeature -Online -FeatureName Containers-DisposableClientVM", "Pro, Enterprise or Education"}, nil},
		{"classic", Host{Windows: true, Feature: "Enabled", Exe: `C:\Windows\System32\WindowsSandbox.exe`, Open: true},
			[]string{"a run launches with WindowsSandbox.exe", "one at a time", "no events are recorded, no host allow-list"}, []string{"refuses"}},
		{"24H2", Host{Windows: true, WSBCLI: `C:\Windows\System32\wsb.exe`, Exe: `C:\Windows\System32\WindowsSandbox.exe`},
			[]string{"feature Containers-DisposableClientVM: unknown", "a run launches with wsb start"}, []string{"refuses", "one at a time"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := writeDoctor(&b, tc.host); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("doctor lacks %q:\n%s", w, b.String())
				}
			}
			for _, w := range tc.not {
				if strings.Contains(b.String(), w) {
					t.Errorf("doctor says %q:\n%s", w, b.String())
				}
			}
		})
	}
}

func TestUsable(t *testing.T) {
	if err := (Host{}).usable(); !errors.Is(err, ErrNotWindows) {
		t.Errorf("off Windows: %v", err)
	}
	if err := (Host{Windows: true}).usable(); !errors.Is(err, ErrNoLauncher) || !strings.Contains(err.Error(), "Enable-WindowsOptionalFeature") {
		t.Errorf("not enabled: %v", err)
	}
	if err := (Host{Windows: true, Exe: "x"}).usable(); err != nil {
		t.Errorf("enabled: %v", err)
	}
}

func TestFeatureState(t *testing.T) {
	for in, want := range map[string]string{"1": "Enabled", "2": "Disabled", "": "", "x": ""} {
		if got := featureState(in); got != want {
			t.Errorf("featureState(%q) = %q, want %q", in, got, want)
		}
	}
	if !strings.HasPrefix(featureState("3"), "Absent") {
		t.Error("InstallState 3 is not Absent")
	}
}
