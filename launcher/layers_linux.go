package launcher

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/agentrun/agentrun/platform/linux"
)

// describeLayers writes which mechanism enforces what for the plan on this host.
func (p *Plan) describeLayers(w io.Writer) {
	for _, l := range linux.Layers(p.Policy, linux.ProbeHost()) {
		state := "on"
		switch {
		case !l.Needed && !l.Available:
			state = "n/a"
		case !l.Needed:
			state = "off"
		case !l.Available:
			state = "MISSING"
		}
		fmt.Fprintf(w, "  layer %s\t%s: %s\n", l.Name, state, l.Enforces)
		if l.Needed && !l.Available {
			fmt.Fprintf(w, "  \t  fix: %s\n", l.Fix)
			if l.Degraded != "" {
				fmt.Fprintf(w, "  \t  --allow-degraded: %s\n", l.Degraded)
			}
		}
	}
}

// Doctor writes what this host offers agentrun and which tier a run gets.
func Doctor(w io.Writer) error {
	h := linux.ProbeHost()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	yes := func(b bool, no string) string {
		if b {
			return "yes"
		}
		return "no: " + no
	}
	fmt.Fprintln(tw, "agentrun doctor")
	fmt.Fprintf(tw, "  kernel\t%s\n", h.Kernel)
	if h.Root {
		fmt.Fprintf(tw, "  privileges\troot\n")
	} else {
		fmt.Fprintf(tw, "  privileges\tuser %d (rootless: a user namespace maps you to the sandbox's root)\n", os.Getuid())
	}
	if h.LandlockABI > 0 {
		fmt.Fprintf(tw, "  landlock\tABI %d (agentrun uses up to 7)\n", h.LandlockABI)
	} else {
		fmt.Fprintf(tw, "  landlock\tno: needs Linux 5.13+ with Landlock in the lsm= list\n")
	}
	fmt.Fprintf(tw, "  apparmor\t%s\n", linux.AppArmorState(h))
	fmt.Fprintf(tw, "  user namespaces\t%s\n", yes(h.UserNS, h.UserNSWhy))
	fmt.Fprintf(tw, "  cgroups\tv%d; delegated to you: %s; limits %s\n", h.CgroupVersion, map[bool]string{true: "yes", false: "no"}[h.CgroupDelegated], yes(h.CgroupLimits, "as root (sudo agentrun … runs the agent as you), or on cgroup v2 in a cgroup delegated to you (systemd-run --user --scope -p Delegate=yes agentrun …)"))
	fmt.Fprintf(tw, "  seccomp\t%s\n", yes(h.Seccomp, "this binary was built without -tags seccomp"))
	fmt.Fprintf(tw, "  tun\t%s\n", yes(h.TUN, "/dev/net/tun is missing or not usable by you (needed for filtered egress; most distributions ship it mode 0666)"))
	switch {
	case (h.Root || h.UserNS) && h.LandlockABI > 0 && h.Seccomp:
		fmt.Fprintf(tw, "  tier\tfull: namespaces, Landlock, seccomp%s\n", map[bool]string{true: ", cgroups", false: " (no cgroup limits)"}[h.CgroupLimits])
	case h.Root || h.UserNS:
		fmt.Fprintf(tw, "  tier\tdegraded: namespaces without all kernel layers; enforce mode refuses profiles that need the missing ones\n")
	default:
		fmt.Fprintf(tw, "  tier\tLandlock + seccomp only (no user namespaces: %s); enforce mode refuses, --allow-degraded runs this tier and lists what it gives up\n", h.UserNSWhy)
	}
	return tw.Flush()
}

// Setup prepares the host once (agentrun setup) and says what it did.
func Setup() ([]string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return linux.SetupAppArmor(self)
}
