package linux

import (
	"fmt"
	"strings"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/fsplan"
	"github.com/agentrun/agentrun/platform/linux/kopens"
	"github.com/agentrun/agentrun/platform/linux/seccompfilter"
	"github.com/agentrun/agentrun/profiles"
)

// Layers lists the mechanisms a policy is compiled to on a host, and which of them the host
// can set up.
func Layers(pol *profiles.Policy, h Host) []Layer {
	return layersFor(pol, h, fsplan.Build(pol, fsplan.HostStat))
}

// layersFor is Layers with the filesystem plan already made (the launch makes it once).
func layersFor(pol *profiles.Policy, h Host, plan fsplan.Plan) []Layer {
	fs := pol.Filesystem
	nsFix := "run as root (sudo agentrun … runs the agent as you), or allow user namespaces: " + h.UserNSWhy
	skipped := 0
	for _, s := range plan.Skipped {
		if strings.HasPrefix(s, fsplan.Protect.String()+" ") {
			skipped++
		}
	}
	pins := 0
	for _, m := range plan.Mounts {
		if m.Pin {
			pins++
		}
	}
	audit := pol.Mode == profiles.ModeAudit
	view := fmt.Sprintf("host view rebuilt from %d read, %d write, %d protect binds; %d denied paths hidden; %d protect rules name paths that do not exist yet (moved aside after the run if the agent creates them); %d directories holding protected paths pinned (cannot be renamed or removed)", len(fs.Read), len(fs.Write), len(fs.Protect), len(fs.Deny), skipped, pins)
	if audit {
		view = "audit mode: the host's directories, as far as your own permissions go"
	}
	layers := []Layer{
		{
			ID:        LayerNamespaces,
			Enforces:  view + "; own /proc, /dev, /tmp; no host processes",
			Needed:    true,
			Available: h.Root || h.UserNS,
			Fix:       nsFix,
			Degraded:  "runs the Landlock + seccomp tier (without mounts: deny and protect inside writable directories, the private /tmp and hiding host processes are given up, and a file the agent writes can be run through the dynamic loader, ld.so FILE, since Landlock checks execve only)" + unprotectedText(plan),
		},
		{
			ID:        LayerExecDeny,
			Enforces:  fmt.Sprintf("%d exec.deny rules: each program bound noexec over itself, so neither execve nor the dynamic loader runs it", len(pol.Exec.Deny)),
			Needed:    len(pol.Exec.Deny) > 0 && !audit,
			Available: h.Root || h.UserNS,
			Fix:       nsFix,
			Degraded:  "cannot run: without mounts the dynamic loader (ld.so PROGRAM) runs a denied program; remove exec.deny from the profile or allow user namespaces",
		},
		{
			ID:        LayerLandlock,
			Enforces:  landlockText(pol, audit),
			Needed:    pol.Mode != profiles.ModeAudit, // audit mode records instead
			Available: h.LandlockABI > 0,
			Fix:       "use a kernel 5.13 or newer with Landlock enabled (CONFIG_SECURITY_LANDLOCK=y and landlock in the lsm= boot parameter)",
		},
		{
			ID:        LayerSeccomp,
			Enforces:  fmt.Sprintf("%d dangerous system calls denied (ptrace, bpf, io_uring, mount, keyctl, …), and TIOCSTI/TIOCLINUX, new user namespaces, vsock, netlink other than routing, MPTCP and execveat of a descriptor, arguments compared as the kernel reads them; no_new_privs; no capabilities; connects and sends to host unix sockets refused but for %d the profile names (seccomp user notifications, decided by agentrun)", len(seccompfilter.Denied), len(pol.Filesystem.Sockets)),
			Needed:    true,
			Available: h.Seccomp,
			Fix:       "use " + seccompNeeds,
		},
		{
			ID:        LayerCgroups,
			Enforces:  resourcesText(pol.Resources, pol.DefaultResources, h),
			Needed:    pol.Resources != (profiles.Resources{}) || pol.DefaultResources != (profiles.Resources{}) && h.CgroupLimits,
			Available: h.CgroupLimits,
			Fix:       "run agentrun as root (sudo agentrun … runs the agent as you), or, on a cgroup v2 host, in a cgroup delegated to you with the memory and pids controllers (systemd-run --user --scope -p Delegate=yes agentrun …)",
		},
		{
			ID:        LayerFileEvents,
			Enforces:  fileEventsText(audit, h.BPF && kopens.Supported, h.BPF),
			Needed:    true,
			Available: h.Seccomp && (h.Root || h.UserNS),
			Fix:       "use " + seccompNeeds + ", where the container tier works (see the namespaces and seccomp layers)",
			Degraded:  "cannot run audit mode",
			Records:   !audit, // audit mode is nothing without it
		},
		{
			ID:        LayerDenials,
			Enforces:  "the file calls the kernel refuses (a hidden or denied path, a read-only one: the mounts and Landlock decide), recorded as denials with the rule that made them: a BPF program on the sandbox's system calls reports the failed ones, so in enforce mode no read or write waits for agentrun",
			Needed:    !audit || h.BPF, // audit mode's as root: its refused reads
			Available: h.BPF,
			Fix:       "run agentrun as root, which may load the BPF program; " + platform.NoDenialRecords,
			Records:   true,
		},
		{
			ID:        LayerNetFilter,
			Enforces:  networkText(pol.Network, audit),
			Needed:    !pol.Network.None() || audit,
			Available: h.TUN && (h.Root || h.UserNS),
			Fix:       netFilterFix(audit),
		},
		{
			ID:        LayerAppArmor,
			Enforces:  appArmorText(h, audit),
			Needed:    h.AppArmor && h.Root, // loading a profile needs root; rootless runs go without
			Available: h.AppArmorParser,
			Fix:       "install apparmor_parser (apt-get install apparmor)",
		},
		agentUserLayer(h),
	}
	return layers
}

// unprotectedText says what the Landlock + seccomp tier does with the plan's protect rules
// inside writable directories: it refuses them (see fsplan.UnprotectedError).
func unprotectedText(plan fsplan.Plan) string {
	held := plan.ProtectedInWrite()
	if len(held) == 0 {
		return ""
	}
	return fmt.Sprintf("; it refuses this profile: it cannot keep %d protected paths inside writable directories read-only (%s, …) unless --allow-unprotected is given too", len(held), held[0])
}

func appArmorText(h Host, audit bool) string {
	switch {
	case !h.AppArmor:
		return "not in this kernel (agentrun compile --target apparmor writes the profile)"
	case !h.Root:
		return "not loaded: loading a profile needs root (sudo agentrun … runs the agent as you)"
	case audit:
		return "a profile generated from the policy, loaded in complain mode: its would-be denials are recorded"
	}
	return "a profile generated from the policy, loaded for the run and attached to the sandbox; its denials are recorded"
}

// fileEventsText says what the seccomp notifications record in each mode: in enforce mode
// only execs and writes reach agentrun, so that no open waits for it (the kernel enforces
// those); in audit mode, where agentrun may load BPF programs (bpf), reads come from the
// kernel after the call too.
func fileEventsText(audit, bpf, refusals bool) string {
	switch {
	case audit && bpf:
		return "every file and exec access judged as enforce mode would, its would-be denials recorded: execs and writes through seccomp user notifications, reads reported by the kernel after the call (a BPF program on the sandbox's opens; once a file of a directory the policy judges alike is found allowed, the directory's other reads are not reported), so no read waits for agentrun; observation only"
	case audit:
		return "every file and exec access judged as enforce mode would, its would-be denials recorded (seccomp user notifications; observation only)"
	}
	if refusals {
		return "execs judged and recorded (seccomp user notifications; observation only); no read or write waits for agentrun: the kernel enforces them, and the denial records layer reports those it refuses (but with --trace, which records every access)"
	}
	return "execs judged and recorded (seccomp user notifications; observation only); no read or write waits for agentrun: the kernel enforces them, and its refusals are not recorded here (but with --trace, which records every access)"
}

func landlockText(pol *profiles.Policy, audit bool) string {
	if audit {
		return "not applied in audit mode: each access is judged and recorded instead (file events)"
	}
	return fmt.Sprintf("write, create, remove and execute only beneath the policy's paths (%d exec patterns), and read there too when the namespaces are given up (with them the mounts are the read boundary, and no open waits for Landlock's path walk); signals and abstract sockets scoped to the sandbox", len(pol.Exec.Allow))
}

func resourcesText(r, defaults profiles.Resources, h Host) string {
	if defaults != (profiles.Resources{}) {
		if !h.CgroupLimits {
			return fmt.Sprintf("%s; default limits (%s) not applied: %s", resourcesText(r, profiles.Resources{}, h), defaults, noCgroupsWhy(h))
		}
		r = r.With(defaults)
	}
	if r == (profiles.Resources{}) {
		return "no limits asked for"
	}
	var parts []string
	if r.MemoryBytes > 0 {
		parts = append(parts, "memory "+profiles.FormatBytes(r.MemoryBytes)+" (OOM kill reported)")
	}
	if r.Pids > 0 {
		parts = append(parts, fmt.Sprintf("%d processes", r.Pids))
	}
	if r.MilliCPU > 0 {
		parts = append(parts, fmt.Sprintf("%.2f CPUs", float64(r.MilliCPU)/1000))
	}
	return strings.Join(parts, ", ")
}

// netFilterFix is what makes the network filter possible, or unnecessary: --network=none in
// enforce mode; in audit mode the filter records every connection, with no network rules too
// (each is then one enforce mode would deny), so only --allow-degraded goes without it.
func netFilterFix(audit bool) string {
	const tun = "needs /dev/net/tun, usable by you (modprobe tun; chmod 0666 /dev/net/tun, as most distributions ship it), and network namespaces"
	if audit {
		return tun + "; audit mode records every connection through it, with no network rules too (without it, --allow-degraded runs the agent with no network and records no connection)"
	}
	return tun + "; or run with --network=none"
}

func networkText(n profiles.NetworkPolicy, audit bool) string {
	if audit {
		return "audit mode: every destination allowed and recorded, what enforce mode would deny marked would-deny; cloud metadata always denied"
	}
	if n.None() {
		return "none: loopback only"
	}
	return fmt.Sprintf("%d destinations by name and port; metadata always denied", len(n.Allow)+len(n.UDP))
}

// needed reports whether layer id is one the run needs.
func needed(layers []Layer, id LayerID) bool {
	for _, l := range layers {
		if l.ID == id {
			return l.Needed
		}
	}
	return false
}
