package rootfs

import (
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/tracee"
)

// startUserns starts the idmapping's process on this (locked) thread, traced from its start,
// and returns it stopped in a user namespace of its own, with a pidfd of it. The process
// is started without CLONE_NEWUSER, which makes Go fork the whole stage instead of vforking:
// on a host whose page faults are dear (a PVM guest: ≈ 30–50 µs each) every page the stage
// wrote after such a fork faulted once more, ≈ 7 ms a launch. So it is vforked, stops at its
// execve (the new program has run nothing), and is made to call unshare(CLONE_NEWUSER) itself:
// a syscall instruction written at its entry point, its registers set for the call, one
// single step. On return pid is > 0 whenever a process was started, which the caller kills
// and reaps.
func startUserns() (pid, pidfd int, err error) {
	pidfd = -1
	sys := &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL, PidFD: &pidfd}
	if pid, err = syscall.ForkExec("/proc/self/exe", []string{"agentrun-idmap"}, &syscall.ProcAttr{Sys: sys}); err != nil {
		return 0, -1, err
	}
	t, err := tracee.AtEntry(pid) // nothing of its own program runs: it is killed after
	if err != nil {
		return pid, pidfd, err
	}
	return pid, pidfd, t.Call("unshare(CLONE_NEWUSER)", unix.SYS_UNSHARE, unix.CLONE_NEWUSER)
}
