package linux

import (
	"strings"
	"testing"

	"github.com/agentrun/agentrun/profiles"
)

// TestLayerFixesWork: where a layer the host cannot set up says "--network=none" fixes it,
// running with --network=none (the policy's network rules dropped) makes the layer
// unneeded, in enforce and in audit mode; a fix the user follows must not give the same error.
func TestLayerFixesWork(t *testing.T) {
	h := Host{Root: true, LandlockABI: 7, Seccomp: true, CgroupLimits: true} // no TUN
	for _, mode := range []profiles.Mode{profiles.ModeEnforce, profiles.ModeAudit} {
		pol := &profiles.Policy{Mode: mode, Network: profiles.NetworkPolicy{Allow: []profiles.NetRule{{Host: "api.example.com", Ports: []profiles.PortRange{{From: 443, To: 443}}}}}}
		for _, l := range Layers(pol, h) {
			if !l.Needed || l.Available || !strings.Contains(l.Fix, "--network=none") {
				continue
			}
			none := *pol
			none.Network = profiles.NetworkPolicy{}
			if needed(Layers(&none, h), l.ID) {
				t.Errorf("%s mode: %s says %q, but with --network=none it is still needed", mode, l.ID, l.Fix)
			}
		}
	}
}
