package rootfs

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
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
	if err := waitStopped(pid); err != nil {
		return pid, pidfd, fmt.Errorf("waiting for it to stop at its exec: %w", err)
	}
	var regs unix.PtraceRegs
	if err := unix.PtraceGetRegs(pid, &regs); err != nil {
		return pid, pidfd, fmt.Errorf("reading its registers: %w", err)
	}
	// syscall (0f 05) where it stands; nothing of its own program runs: it is killed after.
	if _, err := unix.PtracePokeText(pid, uintptr(regs.Rip), []byte{0x0f, 0x05}); err != nil {
		return pid, pidfd, fmt.Errorf("writing its system call: %w", err)
	}
	regs.Rax, regs.Orig_rax, regs.Rdi = unix.SYS_UNSHARE, ^uint64(0), unix.CLONE_NEWUSER
	if err := unix.PtraceSetRegs(pid, &regs); err != nil {
		return pid, pidfd, fmt.Errorf("setting its registers: %w", err)
	}
	if err := unix.PtraceSingleStep(pid); err != nil {
		return pid, pidfd, fmt.Errorf("making it call unshare: %w", err)
	}
	if err := waitStopped(pid); err != nil {
		return pid, pidfd, fmt.Errorf("waiting for its unshare: %w", err)
	}
	if err := unix.PtraceGetRegs(pid, &regs); err != nil {
		return pid, pidfd, fmt.Errorf("reading its registers: %w", err)
	}
	if r := int64(regs.Rax); r != 0 {
		return pid, pidfd, fmt.Errorf("its unshare(CLONE_NEWUSER): %w", unix.Errno(-r))
	}
	return pid, pidfd, nil
}

// waitStopped waits for this thread's traced child pid to stop.
func waitStopped(pid int) error {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		switch {
		case err != nil:
			return err
		case !ws.Stopped():
			return fmt.Errorf("it ended instead (status %#x)", uint32(ws))
		}
		return nil
	}
}
