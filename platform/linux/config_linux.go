package linux

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups"
	_ "github.com/opencontainers/cgroups/devices" // lets the cgroup manager apply device rules
	devices "github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/fsplan"
	"github.com/agentrun/agentrun/profiles"
)

// stageDir is where the agentrun binary is bound inside the container, to run the stage.
const stageDir = "/.agentrun"

// layout is where one container's files live on the host.
type layout struct {
	stateRoot string // libcontainer's state root; the container's state is stateRoot/id
	id        string
	rootfs    string // an empty directory: the container's / before the mounts
	denyFile  string // an empty, unreadable file bound over denied files
	resolv    string // the sandbox's resolv.conf, when it has filtered egress
	notify    string // the socket libcontainer hands the seccomp notification descriptor to
	lock      string // held by the run while it lives; see CleanStale
	self      string // this agentrun binary, bound read-only into the container
	tmpSize   int64  // the size of the sandbox's /tmp in bytes; 0: the kernel's default
	// cgroupParent, for a rootless run, is the delegated cgroup (from the hierarchy's root)
	// the container's cgroup is made in; "": none, or root's agentrun parent.
	cgroupParent string
}

// containerConfig builds the libcontainer configuration for a policy: the mounts of the plan,
// the namespaces, no capabilities, no_new_privs, seccomp, the cgroup limits.
func containerConfig(pol *profiles.Policy, fs fsplan.Plan, l layout, rootless, withNet bool) *configs.Config {
	const (
		bindRO   = unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV
		bindRW   = unix.MS_BIND | unix.MS_REC | unix.MS_NOSUID | unix.MS_NODEV
		sysFlags = unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV
	)
	tmpFlags := unix.MS_NOSUID | unix.MS_NODEV
	if fs.TmpNoExec {
		tmpFlags |= unix.MS_NOEXEC
	}
	noexec := func(m fsplan.Mount) int {
		if m.NoExec {
			return unix.MS_NOEXEC
		}
		return 0
	}
	mounts := []*configs.Mount{
		{Source: "proc", Destination: "/proc", Device: "proc", Flags: sysFlags},
		{Source: "tmpfs", Destination: "/dev", Device: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=755,size=65536k"},
		{Source: "devpts", Destination: "/dev/pts", Device: "devpts", Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,ptmxmode=0666,mode=0620"},
		{Source: "shm", Destination: "/dev/shm", Device: "tmpfs", Flags: sysFlags, Data: "mode=1777,size=65536k"},
		{Source: "mqueue", Destination: "/dev/mqueue", Device: "mqueue", Flags: sysFlags},
		{Source: "sysfs", Destination: "/sys", Device: "sysfs", Flags: sysFlags | unix.MS_RDONLY},
		{Source: "tmpfs", Destination: "/tmp", Device: "tmpfs", Flags: tmpFlags, Data: tmpData(l.tmpSize)},
		{Source: l.self, Destination: stageDir + "/agentrun", Device: "bind", Flags: bindRO &^ unix.MS_NOSUID},
	}
	if rootless {
		// A user namespace cannot mount sysfs for a network namespace it does not own on
		// every kernel, and mqueue needs an IPC namespace it owns; both are owned here, but
		// sysfs is also readable enough through a read-only bind.
		mounts[5] = &configs.Mount{Source: "/sys", Destination: "/sys", Device: "bind", Flags: bindRO}
	}
	for _, m := range fs.Mounts {
		switch m.Access {
		case fsplan.Read, fsplan.Protect:
			mounts = append(mounts, &configs.Mount{Source: m.Path, Destination: m.Path, Device: "bind", Flags: bindRO})
		case fsplan.Write:
			mounts = append(mounts, &configs.Mount{Source: m.Path, Destination: m.Path, Device: "bind", Flags: bindRW | noexec(m)})
		case fsplan.Deny:
			if m.Dir {
				mounts = append(mounts, &configs.Mount{Source: "tmpfs", Destination: m.Path, Device: "tmpfs", Flags: unix.MS_RDONLY | sysFlags, Data: "mode=000,size=4k,nr_inodes=1"})
			} else {
				mounts = append(mounts, &configs.Mount{Source: l.denyFile, Destination: m.Path, Device: "bind", Flags: bindRO | unix.MS_NOEXEC})
			}
		}
	}
	for _, m := range fs.ExecDeny {
		flags := bindRO
		if m.Access == fsplan.Write {
			flags = bindRW
		}
		mounts = append(mounts, &configs.Mount{Source: m.Path, Destination: m.Path, Device: "bind", Flags: flags | unix.MS_NOEXEC})
	}
	namespaces := configs.Namespaces{
		{Type: configs.NEWNS}, {Type: configs.NEWPID}, {Type: configs.NEWIPC},
		{Type: configs.NEWUTS}, {Type: configs.NEWNET}, {Type: configs.NEWCGROUP},
	}
	cfg := &configs.Config{
		Rootfs:            l.rootfs,
		Readonlyfs:        true,
		RootPropagation:   unix.MS_SLAVE | unix.MS_REC,
		Mounts:            mounts,
		Devices:           sandboxDevices(withNet),
		Hostname:          "agentrun",
		Namespaces:        namespaces,
		Capabilities:      &configs.Capabilities{},
		Networks:          []*configs.Network{{Type: "loopback", Address: "127.0.0.1/0", Gateway: "localhost"}},
		NoNewPrivileges:   true,
		NoNewKeyring:      true,
		ParentDeathSignal: int(unix.SIGKILL),
		Seccomp:           seccompConfig(seccompOptions{}),
		MaskPaths: []string{
			"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
			"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
			"/sys/firmware", "/sys/devices/virtual/powercap", "/sys/kernel/debug", "/sys/kernel/security",
		},
		ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		Rlimits: []configs.Rlimit{
			{Type: unix.RLIMIT_CORE, Hard: 0, Soft: 0}, // no core dumps full of secrets
		},
		Cgroups: &cgroups.Cgroup{
			Parent:    "agentrun",
			Name:      l.id,
			Resources: cgroupResources(pol.Resources, withNet),
		},
	}
	if withNet {
		// The stage creates the TUN device, hands it over and drops these before the agent
		// starts (see setupTUN).
		caps := append([]string(nil), netCapabilities...)
		cfg.Capabilities = &configs.Capabilities{Bounding: caps, Effective: caps, Permitted: caps}
		if l.resolv != "" {
			cfg.Mounts = append(cfg.Mounts, resolvMount(l.resolv))
		}
	}
	if rootless {
		uid, gid := os.Getuid(), os.Getgid()
		cfg.Namespaces = append(cfg.Namespaces, configs.Namespace{Type: configs.NEWUSER})
		// libcontainer needs the container's root mapped; without subordinate IDs the only
		// ID we may map is our own, so the agent is root of its namespace, with no
		// capabilities, and what it creates belongs to the user on the host.
		cfg.UIDMappings = []configs.IDMap{{ContainerID: 0, HostID: int64(uid), Size: 1}}
		cfg.GIDMappings = []configs.IDMap{{ContainerID: 0, HostID: int64(gid), Size: 1}}
		cfg.RootlessEUID, cfg.RootlessCgroups = true, true
		cfg.Cgroups.Rootless = true
		if l.cgroupParent != "" {
			cfg.Cgroups.Parent, cfg.Cgroups.Name = "", ""
			cfg.Cgroups.Path = l.cgroupParent + "/" + l.id
		}
	}
	return cfg
}

// tmpData is the mount data of the sandbox's /tmp, of n bytes at most (0: no bound but the
// kernel's, half of RAM).
func tmpData(n int64) string {
	if n > 0 {
		return "mode=1777,size=" + strconv.FormatInt(n, 10)
	}
	return "mode=1777"
}

func cgroupResources(r profiles.Resources, withTUN bool) *cgroups.Resources {
	res := &cgroups.Resources{Devices: deviceRules(withTUN)}
	if r.MemoryBytes > 0 {
		res.Memory = r.MemoryBytes
		res.MemorySwap = r.MemoryBytes // no swap beyond the limit
	}
	if r.Pids > 0 {
		pids := r.Pids
		res.PidsLimit = &pids
	}
	if r.MilliCPU > 0 {
		res.CpuPeriod = 100000
		res.CpuQuota = r.MilliCPU * 100
	}
	return res
}

// deviceRules allow the sandbox's device nodes and its PTYs, and deny every other device.
func deviceRules(withTUN bool) []*devices.Rule {
	rules := []*devices.Rule{{Type: devices.WildcardDevice, Major: devices.Wildcard, Minor: devices.Wildcard, Permissions: "rwm", Allow: false}}
	for _, d := range sandboxDevices(withTUN) {
		rule := d.Rule
		rules = append(rules, &rule)
	}
	return append(rules,
		&devices.Rule{Type: devices.CharDevice, Major: 5, Minor: 2, Permissions: "rwm", Allow: true},                  // /dev/ptmx
		&devices.Rule{Type: devices.CharDevice, Major: 136, Minor: devices.Wildcard, Permissions: "rwm", Allow: true}, // /dev/pts/*
	)
}

// sandboxDevices are the device nodes of the container's /dev.
func sandboxDevices(withTUN bool) []*devices.Device {
	dev := charDevice
	out := []*devices.Device{
		dev("/dev/null", 1, 3), dev("/dev/zero", 1, 5), dev("/dev/full", 1, 7),
		dev("/dev/random", 1, 8), dev("/dev/urandom", 1, 9), dev("/dev/tty", 5, 0),
	}
	if withTUN {
		out = append(out, dev("/dev/net/tun", 10, 200))
	}
	return out
}

func charDevice(path string, major, minor int64) *devices.Device {
	return &devices.Device{
		Rule:     devices.Rule{Type: devices.CharDevice, Major: major, Minor: minor, Permissions: "rwm", Allow: true},
		Path:     path,
		FileMode: 0o666,
	}
}

// landlockRules mirrors the filesystem and exec policy as Landlock rules for the stage. The
// mounts already hide denied paths and make protected ones read-only; Landlock adds that
// nothing outside the policy can be opened or executed, whatever is mounted.
func landlockRules(pol *profiles.Policy, fs fsplan.Plan) []pathRule {
	var rules []pathRule
	for _, m := range fs.Mounts {
		if m.Pin {
			continue // inside a write root already
		}
		switch m.Access {
		case fsplan.Read, fsplan.Protect:
			rules = append(rules, pathRule{Path: m.Path, Rights: "r"})
		case fsplan.Write:
			rules = append(rules, pathRule{Path: m.Path, Rights: "rw"})
		}
	}
	for _, r := range pol.Exec.Allow {
		rules = append(rules, pathRule{Path: profiles.GlobBase(r.Path), Rights: "x"})
	}
	rules = append(rules,
		pathRule{Path: "/", Rights: "d"}, // list directories; the mounts decide what is there
		pathRule{Path: fsplan.PrivateTmp, Rights: "rw"},
		pathRule{Path: "/dev/shm", Rights: "rw"},
		pathRule{Path: "/dev/null", Rights: "rw"}, pathRule{Path: "/dev/zero", Rights: "rw"},
		pathRule{Path: "/dev/full", Rights: "rw"}, pathRule{Path: "/dev/random", Rights: "r"},
		pathRule{Path: "/dev/urandom", Rights: "r"}, pathRule{Path: "/dev/tty", Rights: "rw"},
		pathRule{Path: "/dev/pts", Rights: "rw"}, pathRule{Path: "/dev/ptmx", Rights: "rw"},
		pathRule{Path: "/dev", Rights: "r"},
		pathRule{Path: "/proc", Rights: "rw"},
		pathRule{Path: "/sys", Rights: "r"},
	)
	return rules
}

// rootSymlinks recreates in rootfs the host's top-level symlinks (/bin → usr/bin on merged-/usr
// systems), so #!/bin/sh works although the policy names /usr/bin.
func rootSymlinks(rootfs string) error {
	entries, err := os.ReadDir("/")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Type()&os.ModeSymlink == 0 {
			continue
		}
		target, err := os.Readlink(filepath.Join("/", e.Name()))
		if err != nil || strings.HasPrefix(target, "/proc") {
			continue
		}
		if err := os.Symlink(target, filepath.Join(rootfs, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
