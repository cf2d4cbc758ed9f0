package linux

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// cloneIntoNamespaces turns a started process, stopped at its first instruction (it was
// started with Ptrace by this locked thread and has just exec'd), into a copy of it cloned into
// new namespaces (flags: CLONE_NEWUSER and the others), a child of this process, which execs
// the same program again there, with the user namespace's maps written by writeMaps and the
// capabilities ambient kept, and returns the copy, let go. The original is left stopped: the
// caller kills and reaps it.
//
// Why: Go forks the whole of agentrun to start a process in a new user namespace (its child
// waits for the maps, so it cannot vfork), and on a host whose page faults are dear (a PVM
// guest: 20–50 µs each) every page agentrun writes after that fork faults once more — about
// 240 faults a rootless launch. A vforked process costs nothing of the kind, and once it has
// exec'd, a clone of it and an exec cost a few pages.
//
// How: a syscall instruction written at the process's entry point, its registers set for
// clone(flags|CLONE_PARENT), one single step; the copy is traced from its start
// (PTRACE_O_TRACEFORK: a clone whose exit signal is SIGCHLD counts as a fork) and is made to
// make its own calls the same way (see startClone).
func cloneIntoNamespaces(pid int, flags uintptr, writeMaps func(pid int) error, ambient []uintptr) (*os.Process, error) {
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
	proc, err := startClone(child, entry, writeMaps, ambient)
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
// syscall, whose bytes it shares with its original) and makes it exec its program again, in
// its namespaces: the process's memory then belongs to its new user namespace, as a forked
// stage's does (a clone's keeps the host's, where agentrun holds nothing: agentrun could not
// read the paths of the agent's first exec, whose process shares that memory until it has
// exec'd). Before the exec it is given the parent-death signal (a clone does not inherit it),
// its maps, and the capabilities ambient, which the exec keeps (its user is not root in its
// namespace); its permitted, effective and inheritable sets are those alone.
func startClone(child int, entry unix.PtraceRegs, writeMaps func(pid int) error, ambient []uintptr) (*os.Process, error) {
	if ws, err := waitTraced(child); err != nil {
		return nil, fmt.Errorf("waiting for the clone to stop: %w", err)
	} else if ws.StopSignal() != unix.SIGSTOP {
		return nil, fmt.Errorf("the clone stopped with %v, not SIGSTOP", ws.StopSignal())
	}
	c := injector{pid: child, entry: entry}
	if err := c.call("prctl(PR_SET_PDEATHSIG)", unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uint64(unix.SIGKILL)); err != nil {
		return nil, err
	}
	if err := writeMaps(child); err != nil {
		return nil, err
	}
	// capset's header and data, written below the stack's top (nothing of the program ran:
	// nothing lives there).
	var mask uint32
	for _, cp := range ambient {
		mask |= 1 << cp // the capabilities asked for are all below 32
	}
	scratch := uintptr(entry.Rsp-1024) &^ 15
	capData := make([]byte, 32)
	binary.LittleEndian.PutUint32(capData[0:], unix.LINUX_CAPABILITY_VERSION_3)
	for k := 0; k < 3; k++ { // data[0]: effective, permitted, inheritable; data[1] stays 0
		binary.LittleEndian.PutUint32(capData[8+4*k:], mask)
	}
	if _, err := unix.PtracePokeData(child, scratch, capData); err != nil {
		return nil, fmt.Errorf("writing the clone's capabilities: %w", err)
	}
	if err := c.call("capset", unix.SYS_CAPSET, uint64(scratch), uint64(scratch+8)); err != nil {
		return nil, err
	}
	for _, cp := range ambient {
		if err := c.call("prctl(PR_CAP_AMBIENT_RAISE)", unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uint64(cp)); err != nil {
			return nil, err
		}
	}
	// execve(AT_EXECFN, argv, envp), all as the exec left them on the stack: argc, argv's
	// pointers and a NULL, envp's.
	word := make([]byte, 8)
	if _, err := unix.PtracePeekData(child, uintptr(entry.Rsp), word); err != nil {
		return nil, fmt.Errorf("reading the clone's argc: %w", err)
	}
	argc := binary.LittleEndian.Uint64(word)
	execfn, err := auxvEntry(child, atExecFn)
	if err != nil || argc > 1<<20 {
		return nil, fmt.Errorf("reading the clone's exec name (argc %d): %v", argc, err)
	}
	argv := entry.Rsp + 8
	envp := argv + 8*(argc+1)
	if err := c.call("execve", unix.SYS_EXECVE, execfn, argv, envp); err != nil {
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

// injector makes a stopped tracee, whose entry point holds a syscall instruction, make
// system calls.
type injector struct {
	pid   int
	entry unix.PtraceRegs
}

// call makes the tracee call nr with args at its entry point (one single step) and fails
// unless the call returns 0 (an execve returns 0 in the new program).
func (c injector) call(what string, nr uint64, args ...uint64) error {
	regs := c.entry
	regs.Rax, regs.Orig_rax = nr, ^uint64(0)
	for i, r := range []*uint64{&regs.Rdi, &regs.Rsi, &regs.Rdx, &regs.R10} {
		if i < len(args) {
			*r = args[i]
		}
	}
	if err := unix.PtraceSetRegs(c.pid, &regs); err != nil {
		return fmt.Errorf("setting the clone's registers for its %s: %w", what, err)
	}
	if err := unix.PtraceSingleStep(c.pid); err != nil {
		return fmt.Errorf("making the clone call %s: %w", what, err)
	}
	if ws, err := waitTraced(c.pid); err != nil {
		return fmt.Errorf("waiting for the clone's %s: %w", what, err)
	} else if ws.StopSignal() != unix.SIGTRAP {
		return fmt.Errorf("the clone's %s stopped with %v", what, ws.StopSignal())
	}
	if err := unix.PtraceGetRegs(c.pid, &regs); err != nil {
		return fmt.Errorf("reading the clone's registers after its %s: %w", what, err)
	}
	if r := int64(regs.Rax); r != 0 {
		return fmt.Errorf("the clone's %s: %w", what, unix.Errno(-r))
	}
	return nil
}

// auxvEntry is the value of the tracee pid's auxiliary vector entry typ.
func auxvEntry(pid int, typ uint64) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/auxv")
	if err != nil {
		return 0, err
	}
	for ; len(b) >= 16; b = b[16:] {
		if binary.LittleEndian.Uint64(b) == typ {
			return binary.LittleEndian.Uint64(b[8:]), nil
		}
	}
	return 0, fmt.Errorf("no auxiliary vector entry %d", typ)
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

// atExecFn is AT_EXECFN, the auxiliary vector's entry for the name the program was exec'd by.
const atExecFn = 31
