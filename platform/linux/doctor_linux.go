package linux

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/agentrun/agentrun/platform"
)

// doctor writes what host h offers agentrun and which tier a run gets there.
func doctor(w io.Writer, h Host) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	yes := func(b bool, no string) string {
		if b {
			return "yes"
		}
		return "no: " + no
	}
	fmt.Fprintln(tw, "agentrun doctor")
	if insideSandbox() {
		fmt.Fprintf(tw, "  sandbox\tno run here: %v\n", errNested)
	}
	fmt.Fprintf(tw, "  kernel\t%s\n", h.Kernel)
	if h.Root {
		fmt.Fprintf(tw, "  privileges\troot\n")
	} else {
		fmt.Fprintf(tw, "  privileges\tuser %d (rootless: a user namespace maps you to yourself)\n", os.Getuid())
	}
	fmt.Fprintf(tw, "  agent user\t%s\n", agentUserLayer(h).Enforces)
	if h.LandlockABI > 0 {
		fmt.Fprintf(tw, "  landlock\tABI %d (agentrun uses up to 7)\n", h.LandlockABI)
	} else {
		fmt.Fprintf(tw, "  landlock\tno: needs Linux 5.13+ with Landlock in the lsm= list\n")
	}
	fmt.Fprintf(tw, "  apparmor\t%s\n", AppArmorState(h))
	fmt.Fprintf(tw, "  user namespaces\t%s\n", yes(h.UserNS, h.UserNSWhy))
	fmt.Fprintf(tw, "  cgroups\tv%d; delegated to you: %s; limits %s\n", h.CgroupVersion, map[bool]string{true: "yes", false: "no"}[h.CgroupDelegated], yes(h.CgroupLimits, "as root (sudo agentrun … runs the agent as you), or on cgroup v2 in a cgroup delegated to you (systemd-run --user --scope -p Delegate=yes agentrun …)"))
	fmt.Fprintf(tw, "  seccomp\t%s\n", yes(h.Seccomp, "needs "+seccompNeeds))
	fmt.Fprintf(tw, "  denial records\t%s\n", yes(h.BPF, platform.NoDenialRecords+" ("+h.BPFWhy+")"))
	fmt.Fprintf(tw, "  stage\t%s\n", stageState())
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
