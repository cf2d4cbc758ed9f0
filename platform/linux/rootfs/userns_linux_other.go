//go:build linux && !amd64

package rootfs

import "syscall"

// startUserns starts the idmapping's process on this (locked) thread in a user namespace of
// its own, traced from its start, so that it stops at its execve and runs nothing, and returns
// it with a pidfd of it; pid is > 0 whenever a process was started, which the caller kills and
// reaps. Go forks the whole stage for CLONE_NEWUSER (amd64 vforks and makes the process unshare
// instead: see userns_linux_amd64.go).
func startUserns() (pid, pidfd int, err error) {
	pidfd = -1
	sys := &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER, Ptrace: true, Pdeathsig: syscall.SIGKILL, PidFD: &pidfd}
	if pid, err = syscall.ForkExec("/proc/self/exe", []string{"agentrun-idmap"}, &syscall.ProcAttr{Sys: sys}); err != nil {
		return 0, -1, err
	}
	return pid, pidfd, nil
}
