package linux

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/agentrun/agentrun/platform/fsplan"
	"github.com/agentrun/agentrun/platform/linux/rootfs"
	"github.com/agentrun/agentrun/profiles"
	"golang.org/x/sys/unix"
)

// rootOptions are what the root depends on beyond the filesystem plan.
type rootOptions struct {
	rootless bool
	withTUN  bool
	tmpSize  int64
	// agent, when the agent runs as agentUID, is its user database; home its home directory,
	// whose named paths it sees through the idmapping (see agentIDMap).
	agent *agentUser
	home  string
}

// Mount flags the plan uses.
const (
	roFlags  = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV
	rwFlags  = unix.MS_NOSUID | unix.MS_NODEV
	sysFlags = unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV
)

// stageDir holds, in the sandbox's root tmpfs, agentrun's own files: the empty, unreadable
// file bound over denied files, and the sandbox's resolv.conf. The root is read-only by the
// time the agent runs.
const (
	stageDir     = "/.agentrun"
	denyFilePath = stageDir + "/deny"
	resolvPath   = stageDir + "/resolv.conf"
	passwdPath   = stageDir + "/passwd"
	groupPath    = stageDir + "/group"
)

// maskedPaths are hidden in /proc and /sys: kernel state an agent never needs and that
// describes or reaches the host.
var maskedPaths = []string{
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap", "/sys/kernel/debug", "/sys/kernel/security",
}

// readonlyPaths are parts of /proc that stay readable but not writable.
var readonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}

// sandboxDevices are the host device nodes bound into the sandbox's /dev.
func sandboxDevices(withTUN bool) []string {
	devs := []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}
	if withTUN {
		devs = append(devs, "/dev/net/tun")
	}
	return devs
}

// rootOps is the sandbox's root as the stage builds it: the host's top-level symlinks, /proc,
// a minimal /dev, /sys, a private /tmp, devices, masks and read-only parts (kernelOps), the
// plan's binds and denials, the agent's passwd and group, resolv.conf; kernelOps last instead
// where the plan binds something in /dev, /proc or /sys. The root itself is a tmpfs the stage makes read-only at the end.
func rootOps(fs fsplan.Plan, o rootOptions, hostLinks []rootfs.MountOp, resolv string) []rootfs.MountOp {
	tmpFlags := uint64(rwFlags)
	if fs.TmpNoExec {
		tmpFlags |= unix.MS_NOEXEC
	}
	ops := append([]rootfs.MountOp(nil), hostLinks...)
	ops = append(ops,
		rootfs.MountOp{Kind: rootfs.OpFile, Dst: denyFilePath, Mode: 0},
		rootfs.MountOp{Kind: rootfs.OpFS, Src: "proc", Dst: "/proc", Dir: true, Flags: sysFlags},
		rootfs.MountOp{Kind: rootfs.OpFS, Src: "tmpfs", Dst: "/dev", Dir: true, Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, Data: "mode=755,size=65536k", Own: true},
		rootfs.MountOp{Kind: rootfs.OpFS, Src: "devpts", Dst: "/dev/pts", Dir: true, Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,ptmxmode=0666,mode=0620"},
		rootfs.MountOp{Kind: rootfs.OpFS, Src: "tmpfs", Dst: "/dev/shm", Dir: true, Flags: sysFlags, Data: "mode=1777,size=65536k"},
		rootfs.MountOp{Kind: rootfs.OpFS, Src: "mqueue", Dst: "/dev/mqueue", Dir: true, Flags: sysFlags},
	)
	if o.rootless {
		// A user namespace may not mount sysfs for a network namespace on every kernel; the
		// host's, read-only all the way down, is as good for reading.
		ops = append(ops, rootfs.MountOp{Kind: rootfs.OpBind, Dst: "/sys", Dir: true, Flags: roFlags | unix.MS_NOEXEC})
	} else {
		ops = append(ops, rootfs.MountOp{Kind: rootfs.OpFS, Src: "sysfs", Dst: "/sys", Dir: true, Flags: sysFlags | unix.MS_RDONLY})
	}
	ops = append(ops, rootfs.MountOp{Kind: rootfs.OpFS, Src: "tmpfs", Dst: fsplan.PrivateTmp, Dir: true, Flags: tmpFlags, Data: tmpData(o.tmpSize), Own: true})
	// The sandbox's own devices, their links and the masks on its /proc and /sys depend on
	// none of the plan's binds: where none of those lies in /dev, /proc or /sys (or above
	// them), they go before the binds, so that more steps run while the idmapping's user
	// namespace, started as the stage started, is made (rootfs.StartIDMap). Where one does,
	// they go last, over it, as the denials do. A bind a planted link leads into them binds
	// nothing (rootfs.bindThroughLink), so no order uncovers a mask.
	kernel := kernelOps(o.withTUN)
	kernelFirst := !bindsKernelTrees(fs)
	if kernelFirst {
		ops = append(ops, kernel...)
	}
	noexec := func(m fsplan.Mount) uint64 {
		if m.NoExec {
			return unix.MS_NOEXEC
		}
		return 0
	}
	var writeRoots []string
	for _, m := range fs.Mounts {
		if m.Access == fsplan.Write {
			writeRoots = append(writeRoots, m.Path)
		}
	}
	idmap := func(m fsplan.Mount) bool {
		return o.agent != nil && !m.HostView && agentIDMap(m.Access == fsplan.Write || m.Access == fsplan.Protect && within(m.Path, writeRoots), m.Path, o.home)
	}
	// The denials go on last, over every bind: a bind made after one (a protected path that a
	// link leads into a denied directory) would uncover what it hides.
	var denies []rootfs.MountOp
	for _, m := range fs.Mounts {
		switch m.Access {
		case fsplan.Read, fsplan.Protect:
			ops = append(ops, rootfs.MountOp{Kind: rootfs.OpBind, Dst: m.Path, Dir: m.Dir, Flags: roFlags, IDMap: idmap(m)})
		case fsplan.Write:
			ops = append(ops, rootfs.MountOp{Kind: rootfs.OpBind, Dst: m.Path, Dir: m.Dir, Flags: rwFlags | noexec(m), IDMap: idmap(m)})
		case fsplan.Deny:
			if m.Dir {
				denies = append(denies, rootfs.MountOp{Kind: rootfs.OpFS, Src: "tmpfs", Dst: m.Path, Dir: true, Flags: sysFlags | unix.MS_RDONLY, Data: "mode=000,size=4k,nr_inodes=1"})
			} else {
				denies = append(denies, rootfs.MountOp{Kind: rootfs.OpSelf, Src: denyFilePath, Dst: m.Path, Flags: roFlags | unix.MS_NOEXEC})
			}
		}
	}
	for _, m := range fs.ExecDeny {
		flags := uint64(roFlags)
		if m.Access == fsplan.Write {
			flags = rwFlags
		}
		ops = append(ops, rootfs.MountOp{Kind: rootfs.OpBind, Dst: m.Path, Dir: m.Dir, Flags: flags | unix.MS_NOEXEC, IDMap: idmap(m)})
	}
	ops = append(ops, denies...)
	if o.agent != nil && o.agent.Passwd != "" {
		// The agent's name for its uid, beside the host's users: tools look themselves up.
		ops = append(ops,
			rootfs.MountOp{Kind: rootfs.OpFile, Dst: passwdPath, Data: o.agent.Passwd, Mode: 0o644},
			rootfs.MountOp{Kind: rootfs.OpSelf, Src: passwdPath, Dst: "/etc/passwd", Flags: roFlags | unix.MS_NOEXEC, Quiet: true},
			rootfs.MountOp{Kind: rootfs.OpFile, Dst: groupPath, Data: o.agent.Group, Mode: 0o644},
			rootfs.MountOp{Kind: rootfs.OpSelf, Src: groupPath, Dst: "/etc/group", Flags: roFlags | unix.MS_NOEXEC, Quiet: true},
		)
	}
	if resolv != "" {
		ops = append(ops,
			rootfs.MountOp{Kind: rootfs.OpFile, Dst: resolvPath, Data: resolv, Mode: 0o644},
			rootfs.MountOp{Kind: rootfs.OpSelf, Src: resolvPath, Dst: resolvTarget(), Flags: roFlags | unix.MS_NOEXEC},
		)
	}
	if !kernelFirst {
		ops = append(ops, kernel...)
	}
	return ops
}

// bindsKernelTrees reports whether a bind of the plan lies in one of rootfs.KernelTrees, which
// kernelOps fill and mask, or above one.
func bindsKernelTrees(fs fsplan.Plan) bool {
	for _, m := range append(append([]fsplan.Mount(nil), fs.Mounts...), fs.ExecDeny...) {
		for _, k := range rootfs.KernelTrees {
			if profiles.Within(m.Path, k) || profiles.Within(k, m.Path) {
				return true
			}
		}
	}
	return false
}

// kernelOps are the sandbox's devices, their links, and the masks and read-only parts of its
// /proc and /sys.
func kernelOps(withTUN bool) []rootfs.MountOp {
	var ops []rootfs.MountOp
	for _, d := range sandboxDevices(withTUN) {
		ops = append(ops, rootfs.MountOp{Kind: rootfs.OpBind, Dst: d, Flags: unix.MS_NOSUID | unix.MS_NOEXEC})
	}
	for _, l := range [][2]string{{"/dev/ptmx", "pts/ptmx"}, {"/dev/fd", "/proc/self/fd"}, {"/dev/stdin", "/proc/self/fd/0"}, {"/dev/stdout", "/proc/self/fd/1"}, {"/dev/stderr", "/proc/self/fd/2"}} {
		ops = append(ops, rootfs.MountOp{Kind: rootfs.OpLink, Src: l[1], Dst: l[0]})
	}
	for _, p := range maskedPaths {
		if isDir(p) {
			ops = append(ops, rootfs.MountOp{Kind: rootfs.OpFS, Src: "tmpfs", Dst: p, Dir: true, Flags: sysFlags | unix.MS_RDONLY, Data: "mode=000,size=4k,nr_inodes=1", Quiet: true})
		} else {
			ops = append(ops, rootfs.MountOp{Kind: rootfs.OpSelf, Src: "/dev/null", Dst: p, Flags: roFlags | unix.MS_NOEXEC, Quiet: true})
		}
	}
	for _, p := range readonlyPaths {
		ops = append(ops, rootfs.MountOp{Kind: rootfs.OpSelf, Src: p, Dst: p, Dir: isDir(p), Flags: roFlags | unix.MS_NOEXEC, Quiet: true})
	}
	return ops
}

// within reports whether p is one of dirs or beneath one.
func within(p string, dirs []string) bool {
	for _, d := range dirs {
		if profiles.Within(p, d) {
			return true
		}
	}
	return false
}

func isDir(p string) bool {
	_, dir := fsplan.HostStat(p)
	return dir
}

// tmpData is the mount data of the sandbox's /tmp, of n bytes at most (0: no bound but the
// kernel's, half of RAM).
func tmpData(n int64) string {
	if n > 0 {
		return "mode=1777,size=" + strconv.FormatInt(n, 10)
	}
	return "mode=1777"
}

// hostLinks recreates the host's top-level symlinks (/bin → usr/bin on merged-/usr systems),
// so #!/bin/sh works although the policy names /usr/bin.
func hostLinks() []rootfs.MountOp {
	entries, err := os.ReadDir("/")
	if err != nil {
		return nil
	}
	var ops []rootfs.MountOp
	for _, e := range entries {
		if e.Type()&os.ModeSymlink == 0 {
			continue
		}
		target, err := os.Readlink(filepath.Join("/", e.Name()))
		if err != nil || strings.HasPrefix(target, "/proc") {
			continue
		}
		ops = append(ops, rootfs.MountOp{Kind: rootfs.OpLink, Src: target, Dst: "/" + e.Name()})
	}
	return ops
}

// resolvTarget is where /etc/resolv.conf leads on the host: the sandbox's resolv.conf is
// bound there, so a symlinked one is replaced too.
func resolvTarget() string {
	dst, err := filepath.EvalSymlinks("/etc/resolv.conf")
	if err != nil {
		return "/etc/resolv.conf"
	}
	return dst
}
