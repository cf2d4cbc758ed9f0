package wintest

import (
	"os"
	"testing"

	"golang.org/x/sys/windows/registry"
)

// TestUnderWine checks the detection against what the runner knows and against a second,
// independent sign of wine: the HKLM\Software\Wine key every wine prefix has.
// scripts/wine-test.sh sets AGENTRUN_EXPECT_WINE=1, so there the detection must say wine.
func TestUnderWine(t *testing.T) {
	got := UnderWine()
	t.Logf("UnderWine: %v, WineVersion: %q", got, WineVersion())
	if os.Getenv("AGENTRUN_EXPECT_WINE") == "1" && !got {
		t.Fatal("run under wine (AGENTRUN_EXPECT_WINE=1) but UnderWine is false: ntdll.dll's wine_get_version was not found")
	}
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `Software\Wine`, registry.QUERY_VALUE)
	hasKey := err == nil
	if hasKey {
		k.Close()
	}
	if got != hasKey {
		t.Fatalf("UnderWine is %v but HKLM\\Software\\Wine exists: %v; the two signs of wine disagree", got, hasKey)
	}
	if got && WineVersion() == "" {
		t.Fatal("under wine, but wine_get_version gave no version")
	}
}
