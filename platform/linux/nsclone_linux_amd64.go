package linux

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// cloneIntoNamespaces turns a started process, stopped at its first instruction (it was
// started with Ptrace by this locked thread and has just exec'd), into a copy of it cloned into
// new namespaces (flags: CLONE_NEWUSER and the others), a child of this process, and returns the
// copy, running its program from the start, with its user namespace's maps written by
// writeMaps before it runs. The original is left stopped: the caller kills and reaps it.
//
// Why: Go forks the whole of agentrun to start a process in a new user namespace (its child
// waits for the maps, so it cannot vfork), and on a host whose page faults are dear (a PVM
// guest: 20–50 µs each) every page agentrun writes after that fork faults once more — about
// 240 faults a rootless launch. A vforked process costs nothing of the kind, and once it has
// exec'd, a clone of it costs a page table of a few pages.
//
// How: a syscall instruction written at the process's entry point, its registers set for
// clone(flags|CLONE_PARENT), one single step; the clone's copy is traced from its start
// (PTRACE_O_TRACEFORK: a clone whose exit signal is SIGCHLD counts as a fork) and is given the parent-death signal a clone does not inherit (a
// prctl made the same way), then its entry point's bytes and registers back, so that it
// starts its program as the exec left it, in the new namespaces. Before it is let go its
// maps are written (the same as Go's fork writes).
func cloneIntoNamespaces(pid int, flags uintptr, writeMaps func(pid int) error) (*os.Process, error) {
	if ws, err := waitTraced(pid); err != nil {
		return nil, fmt.Errorf("waiting for it to stop at its exec: %w", err)
	} else if ws.StopSignal() != unix.SIGTRAP {
		return nil, fmt.Errorf("it stopped with %v, not at its exec", ws.StopSignal())
	}
	if err := unix.PtraceSetOptions(pid, unix.PTRACE_O_TRACECLONE|unix.PTRACE_O_TRACEFORK|unix.PTRACE_O_TRACEVFORK|unix.PTRACE_O_EXITKILL); err != nil {
		return nil, fmt.Errorf("tracing its clones: %w", err)
	}
	var entry unix.PtraceRegs
	if err := unix.PtraceGetRegs(pid, &entry); err != nil {
		return nil, fmt.Errorf("reading its registers: %w", err)
	}
	saved := make([]byte, 2)
	if _, err := unix.PtracePeekText(pid, uintptr(entry.Rip), saved); err != nil {
		return nil, fmt.Errorf("reading its first instruction: %w", err)
	}
	if _, err := unix.PtracePokeText(pid, uintptr(entry.Rip), []byte{0x0f, 0x05}); err != nil { // syscall
		return nil, fmt.Errorf("writing its system call: %w", err)
	}
	regs := entry
	regs.Rax, regs.Orig_rax = unix.SYS_CLONE, ^uint64(0)
	regs.Rdi = uint64(flags | unix.CLONE_PARENT | uintptr(unix.SIGCHLD))
	regs.Rsi, regs.Rdx, regs.R10, regs.R8 = 0, 0, 0, 0 // the same stack (a copy), no TIDs, no TLS
	if err := unix.PtraceSetRegs(pid, &regs); err != nil {
		return nil, fmt.Errorf("setting its registers: %w", err)
	}
	if err := unix.PtraceSingleStep(pid); err != nil {
		return nil, fmt.Errorf("making it clone: %w", err)
	}
	child, err := clonedChild(pid)
	if err != nil {
		return nil, err
	}
	// From here the copy exists: it is killed on any failure (it has run nothing).
	proc, err := startClone(child, entry, saved, writeMaps)
	if err != nil {
		killReap(child)
		return nil, err
	}
	return proc, nil
}

// clonedChild waits for pid's clone event and returns its new child's pid.
func clonedChild(pid int) (int, error) {
	for {
		ws, err := waitTraced(pid)
		if err != nil {
			return 0, fmt.Errorf("waiting for its clone: %w", err)
		}
		switch {
		case ws.TrapCause() == unix.PTRACE_EVENT_FORK, ws.TrapCause() == unix.PTRACE_EVENT_CLONE:
			// A clone whose exit signal is SIGCHLD is reported as a fork.
			msg, err := unix.PtraceGetEventMsg(pid)
			if err != nil {
				return 0, fmt.Errorf("reading its clone's pid: %w", err)
			}
			return int(msg), nil
		case ws.StopSignal() == unix.SIGTRAP:
			// The step ended without a clone: the call failed, its error in rax.
			var regs unix.PtraceRegs
			if err := unix.PtraceGetRegs(pid, &regs); err != nil {
				return 0, fmt.Errorf("reading its registers: %w", err)
			}
			r := int64(regs.Rax)
			if r > 0 { // a child, untraced: never let it run on
				killReap(int(r))
				return 0, fmt.Errorf("its clone (%d) was not traced", r)
			}
			return 0, fmt.Errorf("its clone: %w", unix.Errno(-r))
		default:
			// Another signal stopped it first: step again, without delivering it.
			if err := unix.PtraceSingleStep(pid); err != nil {
				return 0, fmt.Errorf("making it clone: %w", err)
			}
		}
	}
}

// startClone readies the traced copy child (stopped at its start, just after the injected
// syscall, whose bytes it shares with its original) and lets it run its program from entry.
func startClone(child int, entry unix.PtraceRegs, saved []byte, writeMaps func(pid int) error) (*os.Process, error) {
	if ws, err := waitTraced(child); err != nil {
		return nil, fmt.Errorf("waiting for the clone to stop: %w", err)
	} else if ws.StopSignal() != unix.SIGSTOP {
		return nil, fmt.Errorf("the clone stopped with %v, not SIGSTOP", ws.StopSignal())
	}
	// prctl(PR_SET_PDEATHSIG, SIGKILL): a clone does not inherit its original's.
	regs := entry
	regs.Rax, regs.Orig_rax = unix.SYS_PRCTL, ^uint64(0)
	regs.Rdi, regs.Rsi = unix.PR_SET_PDEATHSIG, uint64(unix.SIGKILL)
	if err := unix.PtraceSetRegs(child, &regs); err != nil {
		return nil, fmt.Errorf("setting the clone's registers: %w", err)
	}
	if err := unix.PtraceSingleStep(child); err != nil {
		return nil, fmt.Errorf("making the clone set its parent-death signal: %w", err)
	}
	if ws, err := waitTraced(child); err != nil {
		return nil, fmt.Errorf("waiting for the clone's prctl: %w", err)
	} else if ws.StopSignal() != unix.SIGTRAP {
		return nil, fmt.Errorf("the clone's prctl stopped with %v", ws.StopSignal())
	}
	if err := unix.PtraceGetRegs(child, &regs); err != nil {
		return nil, fmt.Errorf("reading the clone's registers: %w", err)
	}
	if r := int64(regs.Rax); r != 0 {
		return nil, fmt.Errorf("the clone's prctl(PR_SET_PDEATHSIG): %w", unix.Errno(-r))
	}
	if _, err := unix.PtracePokeText(child, uintptr(entry.Rip), saved); err != nil {
		return nil, fmt.Errorf("restoring the clone's first instruction: %w", err)
	}
	entry.Orig_rax = ^uint64(0) // not in a system call: nothing to restart
	if err := unix.PtraceSetRegs(child, &entry); err != nil {
		return nil, fmt.Errorf("restoring the clone's registers: %w", err)
	}
	if err := writeMaps(child); err != nil {
		return nil, err
	}
	proc, err := os.FindProcess(child)
	if err != nil {
		return nil, err
	}
	if err := unix.PtraceDetach(child); err != nil {
		proc.Release()
		return nil, fmt.Errorf("letting the clone go: %w", err)
	}
	return proc, nil
}

// killReap kills the child pid and reaps it.
func killReap(pid int) {
	_ = unix.Kill(pid, unix.SIGKILL)
	var ws unix.WaitStatus
	_, _ = unix.Wait4(pid, &ws, unix.WALL, nil)
}

// waitTraced waits for this thread's tracee pid to stop, and says so when it ended instead.
func waitTraced(pid int) (unix.WaitStatus, error) {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return ws, err
		}
		if !ws.Stopped() {
			return ws, errors.New("it ended (status " + strconv.FormatUint(uint64(ws), 16) + ")")
		}
		return ws, nil
	}
}

const cloneArch = true
