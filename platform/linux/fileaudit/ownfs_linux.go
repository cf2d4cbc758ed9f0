package fileaudit

import (
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/profiles"
)

// ownFS knows the sandbox's own file systems, which the policy does not speak of: its /tmp
// and /dev/shm (fresh tmpfs), its procfs, sysfs, /dev, devpts and mqueue. An access is the
// sandbox's own when the object it reaches (or, for one it creates, its directory) is on one
// of them, a device node, or the stage's binary: judged by what the path reaches once
// resolved, never by how it is spelt — /proc/self/root/etc/shadow is /etc/shadow, and a
// workspace bound under /tmp is the host's file system, judged like any other.
type ownFS struct {
	devs map[uint64]bool // nil until learnt
	// mntNS holds the sandbox's mount namespace (its nsfs descriptor), so that its mounts
	// stay for the judge's lookups after its last process has exited (the #! lines of the
	// last programs are read then); -1 until learnt.
	mntNS int
	// root is the sandbox's root directory (O_PATH), which every process of it shares: the
	// views of later calls look through it rather than opening /proc/PID/root each time;
	// valid with hasRoot.
	root    int
	hasRoot bool
	// goneCwd is what the views take for the working directory of a caller that has ended
	// (agentView.goneCwd): the kernel's refusals only.
	goneCwd string
	// goneFrom says where goneCwd was taken from: the agent's working directory, or (for
	// one refusal, Observer.Refused) the directory its process started its program in.
	goneFrom guess
}

// view is thread tid's view of its file system: through the sandbox's root once learnt,
// opened from /proc/tid/root before.
func (o *ownFS) view(tid int) (*agentView, error) {
	if o.hasRoot {
		return &agentView{root: o.root, tid: tid, shared: true, goneCwd: o.goneCwd}, nil
	}
	v, err := openView(tid)
	if err == nil {
		v.goneCwd = o.goneCwd
	}
	return v, err
}

// ownMounts are the sandbox's own mount points (see containerConfig).
var ownMounts = []string{"/tmp", "/dev/shm", "/proc", "/sys", "/dev", "/dev/pts", "/dev/mqueue"}

// learn reads the devices of the sandbox's own file systems from the first view it is given:
// every process of the sandbox shares its root (it cannot chroot, mount or make a user
// namespace).
func (o *ownFS) learn(v *agentView) {
	if o.devs != nil {
		return
	}
	o.devs = map[uint64]bool{}
	o.mntNS = -1
	if fd, err := unix.Open("/proc/"+strconv.Itoa(v.tid)+"/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
		o.mntNS = fd
	}
	if fd, err := unix.Dup(v.root); err == nil {
		o.root, o.hasRoot = fd, true
	}
	for _, p := range ownMounts {
		fd, err := v.open(p, unix.O_DIRECTORY)
		if err != nil {
			continue
		}
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil {
			o.devs[st.Dev] = true
		}
		unix.Close(fd)
	}
}

// forget undoes learn: the process it learnt from was not the caller (its pid was reused).
func (o *ownFS) forget() {
	o.close()
	o.devs = nil
}

// close lets the sandbox's mount namespace and root go.
func (o *ownFS) close() {
	if o.devs != nil && o.mntNS >= 0 {
		unix.Close(o.mntNS)
		o.mntNS = -1
	}
	if o.hasRoot {
		unix.Close(o.root)
		o.hasRoot = false
	}
}

func (o *ownFS) has(r resolved) bool {
	if r.dev != 0 && o.devs[r.dev] {
		return true
	}
	if t := r.mode & unix.S_IFMT; r.exists && (t == unix.S_IFCHR || t == unix.S_IFBLK) {
		return true // a device node: /dev and the device cgroup decide those
	}
	// Beneath the kernel's file systems everything is the sandbox's, whatever device it is on
	// and whether it exists: rootless, /sys is the host's, read-only, with the cgroup
	// hierarchies mounted beneath it (node probes them), and a missing path there has no
	// directory to tell by. No policy rule binds anything beneath them (beneath /tmp it may:
	// a workspace there is the host's, told by its device).
	if profiles.Within(r.path, StageDir) {
		return true
	}
	for _, m := range kernelMounts {
		if profiles.Within(r.path, m) {
			return true
		}
	}
	return false
}

// kernelMounts are the sandbox's /proc and /sys.
var kernelMounts = []string{"/proc", "/sys"}
