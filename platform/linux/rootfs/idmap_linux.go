package rootfs

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// IDMapping is how the sandbox's idmapped binds show the host's owners: the owner's ids (on
// disk) appear as the agent's, and what the agent writes is stored as the owner's. Every other
// id is itself. agentrun uses it when it runs as root and the agent as an unprivileged user
// (see agentUser): the write roots and the home's named paths stay the agent's to use, and
// everything it makes there belongs to root on the host.
type IDMapping struct {
	OwnerUID int
	OwnerGID int
	UID      int // the agent's
	GID      int
}

// maxID is the largest valid user or group id ((uid_t)-1 is "no id").
const maxID = 1<<32 - 2

// idMapLines is a uid_map or gid_map swapping owner and agent, every other id mapped to
// itself: the user namespace's id agent is the host's owner, and its id owner the host's
// agent. A mount idmapped with it shows a file the owner has on disk as the agent's.
func idMapLines(owner, agent int) string {
	lo, hi := min(owner, agent), max(owner, agent)
	var b strings.Builder
	line := func(inside, outside, count int) {
		if count > 0 {
			fmt.Fprintf(&b, "%d %d %d\n", inside, outside, count)
		}
	}
	line(owner, agent, 1)
	line(agent, owner, 1)
	line(0, 0, lo)
	line(lo+1, lo+1, hi-lo-1)
	line(hi+1, hi+1, maxID-hi)
	return b.String()
}

// NewIDMapUserns makes a user namespace holding m and returns a descriptor of it, for
// mount_setattr(MOUNT_ATTR_IDMAP). A process has to be started in it to make it: this one is
// traced from its start, so it stops at its execve and runs nothing of its own before it is
// killed (startUserns). Its maps are written through proc, an O_PATH descriptor of a proc file
// system of this process's PID namespace or of an ancestor's (the host's, which the stage's
// mount namespace shows until the stage builds its root): the process is found there by its
// pidfd, whose fdinfo gives its number in that proc's namespace, and the number is the
// process's as long as it is neither reaped nor killed — it is this thread's traced child,
// stopped at its exec.
func NewIDMapUserns(proc int, m IDMapping) (int, error) {
	// A traced child's tracer is the thread that started it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pid, pidfd, err := startUserns()
	defer endUserns(pid, pidfd)
	if err != nil {
		if errors.Is(err, syscall.EPERM) && traced() {
			err = fmt.Errorf("%w (agentrun's sandbox stage is itself traced, by a debugger or strace -f, whose tracer takes its children too, and the stage must trace the idmapping's process itself: trace agentrun without following its children, or run with --as-root, which needs no idmapping)", err)
		}
		return -1, fmt.Errorf("starting a process in a user namespace for the idmapping: %w", err)
	}
	name, err := pidIn(proc, pidfd)
	if err != nil {
		return -1, fmt.Errorf("finding the idmapping's process in /proc: %w", err)
	}
	dir, err := unix.Openat(proc, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("finding the idmapping's process in /proc: %w", err)
	}
	defer unix.Close(dir)
	for _, f := range []struct {
		name string
		text string
	}{{"uid_map", idMapLines(m.OwnerUID, m.UID)}, {"gid_map", idMapLines(m.OwnerGID, m.GID)}} {
		if err := writeAt(dir, f.name, f.text); err != nil {
			return -1, fmt.Errorf("writing the idmapping's %s: %w", f.name, err)
		}
	}
	ns, err := unix.Openat(dir, "ns/user", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("opening the idmapping's user namespace: %w", err)
	}
	return ns, nil
}

// endUserns kills and reaps the idmapping's process pid (none for 0) and closes its pidfd
// (none for -1).
func endUserns(pid, pidfd int) {
	if pid > 0 {
		_ = unix.Kill(pid, unix.SIGKILL)
		var ws unix.WaitStatus
		_, _ = unix.Wait4(pid, &ws, 0, nil)
	}
	if pidfd >= 0 {
		unix.Close(pidfd)
	}
}

func writeAt(dir int, name, text string) error {
	fd, err := unix.Openat(dir, name, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	n, err := unix.Write(fd, []byte(text))
	if err == nil && n != len(text) {
		err = errors.New("short write")
	}
	return err
}

// pidIn is the number proc gives the process of pidfd: the Pid line of the pidfd's fdinfo,
// read through proc itself.
func pidIn(proc, pidfd int) (string, error) {
	fd, err := unix.Openat(proc, "self/fdinfo/"+strconv.Itoa(pidfd), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	var buf [512]byte
	n, err := unix.Read(fd, buf[:])
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(buf[:n]), "\n") {
		if v, ok := strings.CutPrefix(line, "Pid:"); ok {
			v = strings.TrimSpace(v)
			if n, err := strconv.Atoi(v); err != nil || n <= 0 {
				return "", fmt.Errorf("the process has no number in that /proc (%q)", v)
			}
			return v, nil
		}
	}
	return "", errors.New("the pidfd's fdinfo has no Pid line (Linux 5.4 or newer has)")
}

// OpenProc opens path, O_PATH, where it is a proc file system: for NewIDMapUserns.
func OpenProc(path string) (int, error) {
	proc, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(proc, &st); err != nil || st.Type != unix.PROC_SUPER_MAGIC {
		unix.Close(proc)
		return -1, fmt.Errorf("%s is not a proc file system", path)
	}
	return proc, nil
}

// traced reports whether this process is being traced (its TracerPid is not 0).
func traced() bool {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "TracerPid:"); ok {
			return strings.TrimSpace(v) != "0"
		}
	}
	return false
}
