package rootfs

import "testing"

// TestIDMapLines checks the maps of the idmapping: owner and agent swapped, every other id
// itself, no range overlapping another on either side, and nothing past the largest id.
// anAgent is an agent user's id, platform/linux's agentUID.
const anAgent = 1879113728

func TestIDMapLines(t *testing.T) {
	for _, tc := range []struct {
		owner, agent int
		want         string
	}{
		{0, anAgent, "0 1879113728 1\n1879113728 0 1\n1 1 1879113727\n1879113729 1879113729 2415853566\n"},
		{1000, anAgent, "1000 1879113728 1\n1879113728 1000 1\n0 0 1000\n1001 1001 1879112727\n1879113729 1879113729 2415853566\n"},
		{anAgent, 5, "1879113728 5 1\n5 1879113728 1\n0 0 5\n6 6 1879113722\n1879113729 1879113729 2415853566\n"},
	} {
		if got := idMapLines(tc.owner, tc.agent); got != tc.want {
			t.Errorf("idMapLines(%d, %d) =\n%s want\n%s", tc.owner, tc.agent, got, tc.want)
		}
	}
}
