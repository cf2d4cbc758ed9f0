package linux

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/fsplan"
	"github.com/agentrun/agentrun/profiles"
)

// TestDecideDegrade checks what a run makes of the layers a host lacks, for each layer and
// each flag: refused by default, given up with --allow-degraded (and the policy without what
// it enforced), and the combinations no flag allows.
func TestDecideDegrade(t *testing.T) {
	all := []LayerID{LayerNamespaces, LayerExecDeny, LayerLandlock, LayerSeccomp, LayerCgroups, LayerFileEvents, LayerNetFilter, LayerAppArmor}
	// hostWithout is every layer needed, all available but the missing ones.
	hostWithout := func(missing ...LayerID) []Layer {
		var out []Layer
		for _, id := range all {
			l := Layer{ID: id, Needed: true, Available: true, Fix: "fix " + id.String()}
			for _, m := range missing {
				if m == id {
					l.Available = false
				}
			}
			out = append(out, l)
		}
		return out
	}
	enforce := &profiles.Policy{
		Name:      "p",
		Mode:      profiles.ModeEnforce,
		Resources: profiles.Resources{MemoryBytes: 1 << 30},
		Network:   profiles.NetworkPolicy{Allow: []profiles.NetRule{{Host: "example.com"}}},
	}
	audit := *enforce
	audit.Mode = profiles.ModeAudit
	execDeny := *enforce
	execDeny.Exec.Deny = []profiles.PathRule{{Path: "/usr/bin/curl"}}
	tests := []struct {
		name               string
		layers             []Layer
		pol                *profiles.Policy
		held               []string // protected paths inside writable ones
		degraded, unprot   bool
		wantGiven          []LayerID
		wantDirect         bool
		wantNoLimits       bool
		wantNoNetwork      bool
		wantErr            string // a substring; "" for none
		wantLayerError     string // the layer a *platform.LayerError names
		wantUnprotectedErr bool
	}{
		{name: "all there", layers: hostWithout(), pol: enforce},
		{name: "a layer not needed is not missed", layers: []Layer{{ID: LayerAppArmor, Needed: false, Available: false}}, pol: enforce},
		{name: "missing, refused", layers: hostWithout(LayerLandlock), pol: enforce, wantLayerError: "landlock"},
		{name: "the first missing layer is named", layers: hostWithout(LayerSeccomp, LayerCgroups), pol: enforce, wantLayerError: "seccomp"},
		{name: "landlock given up", layers: hostWithout(LayerLandlock), pol: enforce, degraded: true, wantGiven: []LayerID{LayerLandlock}},
		{name: "cgroups given up drops the limits", layers: hostWithout(LayerCgroups), pol: enforce, degraded: true, wantGiven: []LayerID{LayerCgroups}, wantNoLimits: true},
		{name: "network filter given up drops the network rules", layers: hostWithout(LayerNetFilter), pol: enforce, degraded: true, wantGiven: []LayerID{LayerNetFilter}, wantNoNetwork: true},
		{name: "no namespaces: the direct tier", layers: hostWithout(LayerNamespaces), pol: enforce, degraded: true, wantGiven: []LayerID{LayerNamespaces}, wantDirect: true},
		{name: "no namespaces, protected paths in writable ones", layers: hostWithout(LayerNamespaces), pol: enforce, held: []string{"/w/.git/hooks"}, degraded: true, wantGiven: []LayerID{LayerNamespaces}, wantUnprotectedErr: true},
		{name: "no namespaces, protected paths given up too", layers: hostWithout(LayerNamespaces), pol: enforce, held: []string{"/w/.git/hooks"}, degraded: true, unprot: true, wantGiven: []LayerID{LayerNamespaces}, wantDirect: true},
		{name: "exec deny cannot be given up", layers: hostWithout(LayerNamespaces, LayerExecDeny), pol: &execDeny, degraded: true, wantGiven: []LayerID{LayerNamespaces, LayerExecDeny}, wantErr: "exec.deny (/usr/bin/curl)"},
		{name: "audit without seccomp", layers: hostWithout(LayerSeccomp), pol: &audit, degraded: true, wantGiven: []LayerID{LayerSeccomp}, wantErr: "audit mode"},
		{name: "audit without namespaces", layers: hostWithout(LayerNamespaces), pol: &audit, degraded: true, wantGiven: []LayerID{LayerNamespaces}, wantErr: "audit mode"},
		{name: "audit without cgroups", layers: hostWithout(LayerCgroups), pol: &audit, degraded: true, wantGiven: []LayerID{LayerCgroups}, wantNoLimits: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := *tc.pol
			d, err := decideDegrade(tc.layers, tc.pol, tc.held, tc.degraded, tc.unprot)
			if !reflect.DeepEqual(*tc.pol, before) {
				t.Errorf("the policy was changed: %+v", *tc.pol)
			}
			var le *platform.LayerError
			var ue *fsplan.UnprotectedError
			switch {
			case tc.wantLayerError != "":
				if !errors.As(err, &le) || le.Layer != tc.wantLayerError {
					t.Fatalf("err = %v, want the %s layer's LayerError", err, tc.wantLayerError)
				}
				if le.Fix != "fix "+tc.wantLayerError {
					t.Errorf("fix = %q", le.Fix)
				}
				return
			case tc.wantUnprotectedErr:
				if !errors.As(err, &ue) || ue.Path != tc.held[0] || ue.Count != len(tc.held) || ue.Fix != "fix namespaces" {
					t.Fatalf("err = %v, want an UnprotectedError for %v with the namespaces fix", err, tc.held)
				}
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tc.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			}
			var given []LayerID
			for _, l := range d.GivenUp {
				given = append(given, l.ID)
				if !d.Given[l.ID] {
					t.Errorf("%s given up but not in the set", l.ID)
				}
			}
			if len(d.Given) != len(d.GivenUp) {
				t.Errorf("given set %v, given up %v", d.Given, given)
			}
			if !reflect.DeepEqual(given, tc.wantGiven) {
				t.Errorf("given up %v, want %v", given, tc.wantGiven)
			}
			if err != nil {
				return
			}
			if d.Direct != tc.wantDirect {
				t.Errorf("direct = %v, want %v", d.Direct, tc.wantDirect)
			}
			if got := d.Policy.Resources == (profiles.Resources{}); got != tc.wantNoLimits {
				t.Errorf("limits dropped = %v, want %v", got, tc.wantNoLimits)
			}
			if got := d.Policy.Network.None(); got != tc.wantNoNetwork {
				t.Errorf("network dropped = %v, want %v", got, tc.wantNoNetwork)
			}
		})
	}
}

// TestLayerNames: every layer has a name of its own, which errors and doctor show.
func TestLayerNames(t *testing.T) {
	seen := map[string]bool{}
	for id := LayerNamespaces; id <= LayerAppArmor; id++ {
		n := id.String()
		if n == "" || n == "unknown layer" || seen[n] {
			t.Errorf("layer %d: name %q", id, n)
		}
		seen[n] = true
	}
}
