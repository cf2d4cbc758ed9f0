package linux

import (
	"fmt"
	"io"

	"github.com/agentrun/agentrun/profiles"
)

// withDefaultLimits returns the policy with its default limits made part of its limits where
// this host lets agentrun set cgroups. Where it cannot (rootless without a delegated cgroup v2
// subtree), the run goes on without them and says so in one line; limits the profile states
// itself are left to the cgroups layer, which fails closed.
func withDefaultLimits(pol *profiles.Policy, h Host, stderr io.Writer) *profiles.Policy {
	if pol.DefaultResources == (profiles.Resources{}) {
		return pol
	}
	if !h.CgroupLimits {
		fmt.Fprintf(stderr, "agentrun: default limits (%s) not applied: %s\n", pol.DefaultResources, noCgroupsWhy(h))
		return pol
	}
	p := *pol
	p.Resources = p.Resources.With(p.DefaultResources)
	return &p
}

// noCgroupsWhy says why this host gives agentrun no cgroup limits, and what would.
func noCgroupsWhy(h Host) string {
	if h.CgroupVersion == 2 {
		return "agentrun cannot set cgroups here (its cgroup is not delegated to you); run it with systemd-run --user --scope -p Delegate=yes, or with sudo"
	}
	return "agentrun cannot set cgroups here (rootless on cgroup v1); run with sudo (the agent still runs as you), or on a cgroup v2 host"
}

// tmpSize is the size of the sandbox's /tmp: the memory limit, stated or default, so that a
// full /tmp cannot take more memory than the agent may have even where cgroups do not charge
// it; 0 leaves the kernel's default (half of RAM).
func tmpSize(pol *profiles.Policy) int64 {
	if pol.Resources.MemoryBytes > 0 {
		return pol.Resources.MemoryBytes
	}
	return pol.DefaultResources.MemoryBytes
}
