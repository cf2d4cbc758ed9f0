package stage

import (
	"testing"

	"github.com/agentrun/agentrun/platform/linux/rootfs"
)

// TestIDMapArg checks the stage's idmapping argument: what IDMapArg writes, idmapOf reads back,
// and anything else names no idmapping.
func TestIDMapArg(t *testing.T) {
	m := rootfs.IDMapping{OwnerUID: 0, OwnerGID: 0, UID: 0x70010000, GID: 0x70010000}
	if got, ok := idmapOf([]string{"agentrun-stage", Arg, IDMapArg(m)}); !ok || got != m {
		t.Fatalf("idmapOf(IDMapArg(%+v)) = %+v, %v", m, got, ok)
	}
	for _, args := range [][]string{
		{"agentrun-stage", Arg},
		{"agentrun-stage", Arg, "idmap=1:2:3"},
		{"agentrun-stage", Arg, "idmap=1:2:3:4:5"},
		{"agentrun-stage", Arg, "idmap=-1:2:3:4"},
		{"agentrun-stage", Arg, "idmap=1:2:3:4294967296"},
		{"agentrun-stage", Arg, "idmap=a:2:3:4"},
		{"agentrun-stage", Arg, "map=1:2:3:4"},
	} {
		if m, ok := idmapOf(args); ok {
			t.Errorf("idmapOf(%q) = %+v, want none", args, m)
		}
	}
}
