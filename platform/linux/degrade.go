package linux

import (
	"fmt"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/fsplan"
	"github.com/agentrun/agentrun/profiles"
)

// degrade is what a run makes of the layers this host cannot set up.
type degrade struct {
	GivenUp []Layer          // the layers --allow-degraded gives up, to be told, in order
	Given   layerSet         // the same, as a set
	Policy  *profiles.Policy // the policy without what the given-up layers would enforce
	Direct  bool             // run the Landlock + seccomp tier: no namespaces
}

// decideDegrade decides, from the layers of pol on this host, whether the run goes on and
// how: every missing layer the policy needs fails the run unless allowDegraded gives it up;
// giving up cgroups drops the policy's limits, giving up the network filter its network
// rules. Some layers cannot be given up for some policies: audit mode needs the namespaces
// and seccomp (its file events are seccomp notifications of the container), exec.deny needs
// the namespaces (the noexec binds), and the Landlock + seccomp tier refuses protected paths
// inside writable directories (protectedInWrite, from the mount plan) unless allowUnprotected.
// GivenUp is set even when an error is returned, so that the run can say what it gave up.
// pol is never changed.
func decideDegrade(layers []Layer, pol *profiles.Policy, protectedInWrite []string, allowDegraded, allowUnprotected bool) (degrade, error) {
	d := degrade{Given: layerSet{}, Policy: pol}
	for _, l := range missingLayers(layers) {
		if !allowDegraded {
			return degrade{Policy: pol}, &platform.LayerError{Layer: l.ID.String(), Enforces: l.Enforces, Fix: l.Fix, Degraded: l.Degraded}
		}
		d.Given[l.ID] = true
		d.GivenUp = append(d.GivenUp, l)
	}
	if d.Given[LayerCgroups] || d.Given[LayerNetFilter] {
		p := *pol
		if d.Given[LayerCgroups] {
			p.Resources = profiles.Resources{}
		}
		if d.Given[LayerNetFilter] {
			p.Network = profiles.NetworkPolicy{}
		}
		d.Policy = &p
	}
	if pol.Mode == profiles.ModeAudit && (d.Given[LayerNamespaces] || d.Given[LayerSeccomp]) {
		return d, fmt.Errorf("audit mode records file and exec accesses through the container's seccomp notifications, and this host cannot give them (see agentrun doctor); run in enforce mode with --allow-degraded instead")
	}
	if d.Given[LayerExecDeny] {
		return d, fmt.Errorf("exec.deny (%s) cannot be enforced in the Landlock + seccomp tier: Landlock checks execve only, and the dynamic loader (ld.so PROGRAM) would run a denied program; allow user namespaces (see agentrun doctor) or remove exec.deny from the profile", pol.Exec.Deny[0].Path)
	}
	if d.Given[LayerNamespaces] {
		if len(protectedInWrite) > 0 && !allowUnprotected {
			return d, &fsplan.UnprotectedError{Path: protectedInWrite[0], Count: len(protectedInWrite), Fix: layerFix(layers, LayerNamespaces)}
		}
		d.Direct = true
	}
	return d, nil
}

// layerFix is how to make layer id available.
func layerFix(layers []Layer, id LayerID) string {
	for _, l := range layers {
		if l.ID == id {
			return l.Fix
		}
	}
	return ""
}
