package tracee

import (
	"encoding/binary"
	"fmt"
	"math"

	"golang.org/x/sys/unix"
)

// Syscall is one system call of the code WriteCalls writes: at most six arguments.
type Syscall struct {
	What string // names the call in errors
	Nr   uint64
	Args []uint64
}

// The registers of a system call's number and arguments (rax; rdi, rsi, rdx, r10, r8, r9),
// and r15, which holds the index of the call being made.
const (
	regRAX = 0
	regR15 = 15
)

var argRegs = [6]byte{7, 6, 2, 10, 8, 9}

// WriteCalls writes, just after the system call instruction at the tracee's entry point, code
// that makes calls in order and, at the first that returns anything but 0, stops on a
// breakpoint (int3) with the call's index in r15 and its return in rax. A process the tracee
// clones at its entry point starts there; RunCalls runs it. One stop for all the calls, where
// making each call by its registers (Call) stops the process once a call. The tracee itself
// must not run the code (it is killed, or execs again).
func (t *Tracee) WriteCalls(calls []Syscall) error {
	code, err := callsCode(calls)
	if err != nil {
		return err
	}
	if _, err := unix.PtracePokeText(t.Pid, uintptr(t.Entry.Rip)+2, code); err != nil {
		return fmt.Errorf("writing its calls: %w", err)
	}
	return nil
}

// callsCode is the machine code of WriteCalls.
func callsCode(calls []Syscall) ([]byte, error) {
	var code []byte
	var jumps []int // where each jump to the breakpoint puts its offset
	for i, c := range calls {
		if len(c.Args) > len(argRegs) {
			return nil, fmt.Errorf("%s: %d arguments, at most %d", c.What, len(c.Args), len(argRegs))
		}
		code = movImm(code, regR15, uint64(i))
		code = movImm(code, regRAX, c.Nr)
		for j, reg := range argRegs {
			var v uint64
			if j < len(c.Args) {
				v = c.Args[j]
			}
			code = movImm(code, reg, v)
		}
		code = append(code,
			0x0f, 0x05, // syscall
			0x48, 0x85, 0xc0, // test rax, rax
			0x0f, 0x85, 0, 0, 0, 0) // jnz the breakpoint
		jumps = append(jumps, len(code))
	}
	for _, end := range jumps {
		binary.LittleEndian.PutUint32(code[end-4:], uint32(len(code)-end))
	}
	// The breakpoint: a call failed, or the last returned 0 without replacing the program.
	return append(code, 0xcc), nil
}

// movImm appends mov reg, v: the 32-bit form (zero-extended) where v fits in it.
func movImm(code []byte, reg byte, v uint64) []byte {
	if v <= math.MaxUint32 {
		if reg >= 8 {
			code = append(code, 0x41) // REX.B
		}
		code = append(code, 0xb8+(reg&7))
		return binary.LittleEndian.AppendUint32(code, uint32(v))
	}
	rex := byte(0x48) // REX.W
	if reg >= 8 {
		rex |= 1
	}
	code = append(code, rex, 0xb8+(reg&7))
	return binary.LittleEndian.AppendUint64(code, v)
}

// RunCalls continues pid, a traced process stopped where the code WriteCalls wrote begins,
// whose last call is an execve, and waits until that execve has replaced its program (pid's
// exec event: PTRACE_O_TRACEEXEC must be set on it), or returns the error of the call that
// failed. pid is left stopped either way.
func RunCalls(pid int, calls []Syscall) error {
	if err := unix.PtraceCont(pid, 0); err != nil {
		return fmt.Errorf("letting it make its calls: %w", err)
	}
	ws, err := Wait(pid)
	if err != nil {
		return fmt.Errorf("waiting for its calls: %w", err)
	}
	if ws.TrapCause() == unix.PTRACE_EVENT_EXEC {
		return nil
	}
	if ws.StopSignal() != unix.SIGTRAP {
		return fmt.Errorf("its calls stopped with %v", ws.StopSignal())
	}
	var regs unix.PtraceRegs
	if err := unix.PtraceGetRegs(pid, &regs); err != nil {
		return fmt.Errorf("reading its registers: %w", err)
	}
	if regs.R15 >= uint64(len(calls)) {
		return fmt.Errorf("its calls stopped at call %d of %d", regs.R15, len(calls))
	}
	what := calls[regs.R15].What
	if r := int64(regs.Rax); r < 0 {
		return fmt.Errorf("its %s: %w", what, unix.Errno(-r))
	}
	return fmt.Errorf("its %s returned %d", what, int64(regs.Rax))
}
