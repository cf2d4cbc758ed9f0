package stage

import (
	"testing"

	"github.com/agentrun/agentrun/platform/linux/rootfs"
)

// TestIDMapValue checks the stage's idmapping variable: what IDMapValue writes, idmapOf reads
// back, and anything else names no idmapping.
func TestIDMapValue(t *testing.T) {
	m := rootfs.IDMapping{OwnerUID: 0, OwnerGID: 0, UID: 0x70010000, GID: 0x70010000}
	if got, ok := idmapOf(IDMapValue(m)); !ok || got != m {
		t.Fatalf("idmapOf(IDMapValue(%+v)) = %+v, %v", m, got, ok)
	}
	for _, v := range []string{"", "1:2:3", "1:2:3:4:5", "-1:2:3:4", "1:2:3:4294967296", "a:2:3:4", " 1:2:3:4"} {
		if m, ok := idmapOf(v); ok {
			t.Errorf("idmapOf(%q) = %+v, want none", v, m)
		}
	}
}
