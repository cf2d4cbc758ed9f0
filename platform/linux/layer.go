package linux

import "github.com/agentrun/agentrun/platform"

// LayerID names one confinement layer of the Linux backend.
type LayerID int

// The layers, in the order agentrun doctor and --dry-run list them.
const (
	LayerNamespaces LayerID = iota + 1
	LayerExecDeny
	LayerLandlock
	LayerSeccomp
	LayerCgroups
	LayerFileEvents
	LayerNetFilter
	LayerAppArmor
	LayerAgentUser
	LayerDenials
)

var layerNames = [...]string{"", "namespaces", "exec deny", "landlock", "seccomp", "cgroups", platform.LayerFileEvents, "network filter", "apparmor", "agent user", platform.LayerDenials}

// String is the layer's name for people, as errors, doctor and --dry-run show it.
func (id LayerID) String() string {
	if id <= 0 || int(id) >= len(layerNames) {
		return "unknown layer"
	}
	return layerNames[id]
}

// layerSet is a set of layers, such as those --allow-degraded gave up.
type layerSet map[LayerID]bool

// Layer is one confinement mechanism as it applies to one policy on one host.
type Layer struct {
	ID        LayerID
	Enforces  string // what it enforces for this policy
	Needed    bool   // the policy needs it
	Available bool   // this host can set it up
	Fix       string // how to make it available, when it is not
	Degraded  string // what --allow-degraded does instead; empty: goes on without it
	// Records: the layer records, it confines nothing, so a missing one is said (dry-run,
	// doctor, the run's summary) but never stops a run.
	Records bool
}

// missingLayers returns the layers the policy needs that the host cannot set up and whose
// absence stops a run (not those that only record).
func missingLayers(layers []Layer) []Layer {
	var out []Layer
	for _, l := range layers {
		if l.Needed && !l.Available && !l.Records {
			out = append(out, l)
		}
	}
	return out
}
