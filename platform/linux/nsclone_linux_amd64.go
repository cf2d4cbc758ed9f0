package linux

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/tracee"
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
// How: the original is made to call clone(flags|CLONE_PARENT) at its entry point (package
// tracee); the copy is traced from its start (PTRACE_O_TRACEFORK: a clone whose exit signal is
// SIGCHLD counts as a fork), shares the original's syscall instruction, and is made to make
// its own calls the same way (see startClone).
func cloneIntoNamespaces(pid int, flags uintptr, writeMaps func(pid int) error, ambient []uintptr) (*os.Process, error) {
	mask, err := capMask(ambient)
	if err != nil {
		return nil, err
	}
	orig, err := tracee.AtEntry(pid)
	if err != nil {
		return nil, err
	}
	calls, err := cloneCalls(orig, ambient, mask)
	if err != nil {
		return nil, err
	}
	if err := orig.WriteCalls(calls); err != nil {
		return nil, err
	}
	if err := unix.PtraceSetOptions(pid, unix.PTRACE_O_TRACECLONE|unix.PTRACE_O_TRACEFORK|unix.PTRACE_O_TRACEVFORK|unix.PTRACE_O_EXITKILL); err != nil {
		return nil, fmt.Errorf("tracing its clones: %w", err)
	}
	// The same stack (a copy), no TIDs, no TLS.
	if err := orig.Start(unix.SYS_CLONE, uint64(flags|unix.CLONE_PARENT|uintptr(unix.SIGCHLD))); err != nil {
		return nil, fmt.Errorf("making it clone: %w", err)
	}
	child, err := clonedChild(orig)
	if err != nil {
		return nil, err
	}
	// From here the copy exists: it is killed on any failure (it has run nothing).
	proc, err := startClone(child, writeMaps, calls)
	if err != nil {
		killReap(child)
		return nil, err
	}
	return proc, nil
}

// capMask is the capability sets' low word holding caps, all of which must be below 32 (a
// higher one would be lost in it, and the stage would start without it).
func capMask(caps []uintptr) (uint32, error) {
	var mask uint32
	for _, c := range caps {
		if c >= 32 {
			return 0, fmt.Errorf("capability %d is beyond the first word of the capability sets", c)
		}
		mask |= 1 << c
	}
	return mask, nil
}

// clonedChild waits for the original's clone event and returns its new child's pid.
func clonedChild(orig *tracee.Tracee) (int, error) {
	for {
		ws, err := tracee.Wait(orig.Pid)
		if err != nil {
			return 0, fmt.Errorf("waiting for its clone: %w", err)
		}
		switch {
		case ws.TrapCause() == unix.PTRACE_EVENT_FORK, ws.TrapCause() == unix.PTRACE_EVENT_CLONE:
			// A clone whose exit signal is SIGCHLD is reported as a fork.
			msg, err := unix.PtraceGetEventMsg(orig.Pid)
			if err != nil {
				return 0, fmt.Errorf("reading its clone's pid: %w", err)
			}
			return int(msg), nil
		case ws.StopSignal() == unix.SIGTRAP:
			// The step ended without a clone event: the call failed, its error returned.
			r, err := orig.Result()
			if err != nil {
				return 0, err
			}
			if r > 0 { // a child, untraced: never let it run on
				killReap(int(r))
				return 0, fmt.Errorf("its clone (%d) was not traced", r)
			}
			return 0, fmt.Errorf("its clone: %w", unix.Errno(-r))
		default:
			// Another signal stopped it first: step again, without delivering it.
			if err := unix.PtraceSingleStep(orig.Pid); err != nil {
				return 0, fmt.Errorf("making it clone: %w", err)
			}
		}
	}
}

// cloneCalls are the calls that ready the copy of orig (see startClone) and make it exec its
// program again, in its namespaces: the process's memory then belongs to its new user
// namespace, as a forked stage's does (a clone's keeps the host's, where agentrun holds
// nothing: agentrun could not read the paths of the agent's first exec, whose process shares
// that memory until it has exec'd). Before the exec it is given the parent-death signal (a
// clone does not inherit it) and the capabilities ambient (mask: the same as a word), which
// the exec keeps (its user is not root in its namespace); its permitted, effective and
// inheritable sets are those alone. What the calls read (capset's header and data, execve's
// name and vectors) is in orig's memory, which the copy's is a copy of.
func cloneCalls(orig *tracee.Tracee, ambient []uintptr, mask uint32) ([]tracee.Syscall, error) {
	// capset's header and data, written below the stack's top (nothing of the program ran:
	// nothing lives there).
	scratch := uint64(orig.Entry.Rsp-1024) &^ 15
	capData := make([]byte, 32)
	binary.LittleEndian.PutUint32(capData[0:], unix.LINUX_CAPABILITY_VERSION_3)
	for k := 0; k < 3; k++ { // data[0]: effective, permitted, inheritable; data[1] stays 0
		binary.LittleEndian.PutUint32(capData[8+4*k:], mask)
	}
	if _, err := unix.PtracePokeData(orig.Pid, uintptr(scratch), capData); err != nil {
		return nil, fmt.Errorf("writing the clone's capabilities: %w", err)
	}
	// execve(AT_EXECFN, argv, envp), all as the exec left them on the stack: argc, argv's
	// pointers and a NULL, envp's.
	word := make([]byte, 8)
	if _, err := unix.PtracePeekData(orig.Pid, uintptr(orig.Entry.Rsp), word); err != nil {
		return nil, fmt.Errorf("reading the clone's argc: %w", err)
	}
	argc := binary.LittleEndian.Uint64(word)
	execfn, err := auxvEntry(orig.Pid, atExecFn)
	if err != nil || argc > 1<<20 {
		return nil, fmt.Errorf("reading the clone's exec name (argc %d): %v", argc, err)
	}
	argv := orig.Entry.Rsp + 8
	envp := argv + 8*(argc+1)
	calls := []tracee.Syscall{
		{What: "prctl(PR_SET_PDEATHSIG)", Nr: unix.SYS_PRCTL, Args: []uint64{unix.PR_SET_PDEATHSIG, uint64(unix.SIGKILL)}},
		{What: "capset", Nr: unix.SYS_CAPSET, Args: []uint64{scratch, scratch + 8}},
	}
	for _, cp := range ambient {
		calls = append(calls, tracee.Syscall{What: "prctl(PR_CAP_AMBIENT_RAISE)", Nr: unix.SYS_PRCTL, Args: []uint64{unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uint64(cp)}})
	}
	return append(calls, tracee.Syscall{What: "execve", Nr: unix.SYS_EXECVE, Args: []uint64{execfn, argv, envp}}), nil
}

// startClone readies the traced copy pid (stopped at its start, just after the injected
// syscall, where the calls orig.WriteCalls wrote begin): its maps written, it makes the calls
// (cloneCalls), the last its exec, and is let go.
func startClone(pid int, writeMaps func(pid int) error, calls []tracee.Syscall) (*os.Process, error) {
	if ws, err := tracee.Wait(pid); err != nil {
		return nil, fmt.Errorf("waiting for the clone to stop: %w", err)
	} else if ws.StopSignal() != unix.SIGSTOP {
		return nil, fmt.Errorf("the clone stopped with %v, not SIGSTOP", ws.StopSignal())
	}
	if err := writeMaps(pid); err != nil {
		return nil, err
	}
	if err := unix.PtraceSetOptions(pid, unix.PTRACE_O_EXITKILL|unix.PTRACE_O_TRACEEXEC); err != nil {
		return nil, fmt.Errorf("tracing the clone's exec: %w", err)
	}
	if err := tracee.RunCalls(pid, calls); err != nil {
		return nil, fmt.Errorf("the clone: %w", err)
	}
	proc, err := os.FindProcess(pid)
	if err != nil {
		return nil, err
	}
	if err := unix.PtraceDetach(pid); err != nil {
		proc.Release()
		return nil, fmt.Errorf("letting the clone go: %w", err)
	}
	return proc, nil
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

const cloneArch = true

// atExecFn is AT_EXECFN, the auxiliary vector's entry for the name the program was exec'd by.
const atExecFn = 31
