package appcontainer

import (
	"fmt"
	"testing"
)

func TestCPURate(t *testing.T) {
	for _, tc := range []struct {
		milli int64
		cpus  int
		want  uint32
	}{
		{0, 4, 0},
		{500, 1, 5000},
		{500, 4, 1250},
		{1000, 2, 5000},
		{4000, 4, 0},
		{8000, 4, 0},
		{1, 64, 1},
		{1500, 2, 7500},
	} {
		if got := cpuRate(tc.milli, tc.cpus); got != tc.want {
			t.Errorf("cpuRate(%d, %d) = %d, want %d", tc.milli, tc.cpus, got, tc.want)
		}
	}
}

func TestLimitsCheck(t *testing.T) {
	if err := (Limits{MemoryBytes: 1 << 30, Processes: 10, MilliCPU: 500}).check(); err != nil {
		t.Error(err)
	}
	for _, l := range []Limits{{MemoryBytes: -1}, {Processes: -1}, {MilliCPU: -1}, {Processes: 1 << 32}} {
		if err := l.check(); err == nil {
			t.Errorf("%+v accepted", l)
		}
	}
}

// TestWellKnownCapabilities pins the table to WinCapability…Sid's numbering: consecutive
// RIDs under S-1-15-3, no name or SID twice.
func TestWellKnownCapabilities(t *testing.T) {
	seen := map[string]string{}
	for name, sid := range wellKnownCapabilities {
		if other, ok := seen[sid]; ok {
			t.Errorf("%s and %s share %s", name, other, sid)
		}
		seen[sid] = name
	}
	for i := 1; i <= len(wellKnownCapabilities); i++ {
		if _, ok := seen[fmt.Sprintf("S-1-15-3-%d", i)]; !ok {
			t.Errorf("no capability has S-1-15-3-%d", i)
		}
	}
	for name, want := range map[string]string{"internetClient": "S-1-15-3-1", "privateNetworkClientServer": "S-1-15-3-3"} {
		if got, ok := WellKnownCapabilitySID(name); !ok || got != want {
			t.Errorf("WellKnownCapabilitySID(%s) = %s, %v; want %s", name, got, ok, want)
		}
	}
	if _, ok := WellKnownCapabilitySID("lpacCom"); ok {
		t.Error("lpacCom has no well-known SID: it is derived from its name")
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"agentrun.run-1_a", "A", "x123456789012345678901234567890123456789012345678901234567890123"[:64]} {
		if err := checkName(ok); err != nil {
			t.Errorf("checkName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", `a\b`, "é", "x12345678901234567890123456789012345678901234567890123456789012345"} {
		if err := checkName(bad); err == nil {
			t.Errorf("checkName(%q) accepted", bad)
		}
	}
}
