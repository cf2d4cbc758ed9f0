package tracee

import (
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// Tracee is a traced process whose entry point holds a syscall instruction, with the
// registers its exec left it (Entry).
type Tracee struct {
	Pid   int
	Entry unix.PtraceRegs
}

// AtEntry waits for this thread's tracee pid to stop at its exec (the SIGTRAP a traced
// execve raises), reads its registers and writes a syscall instruction at its entry point.
// The program's own first bytes are lost: the process must never run them (it is killed, or
// execs again).
func AtEntry(pid int) (*Tracee, error) {
	if ws, err := Wait(pid); err != nil {
		return nil, fmt.Errorf("waiting for it to stop at its exec: %w", err)
	} else if ws.StopSignal() != unix.SIGTRAP {
		return nil, fmt.Errorf("it stopped with %v, not at its exec", ws.StopSignal())
	}
	t := &Tracee{Pid: pid}
	if err := unix.PtraceGetRegs(pid, &t.Entry); err != nil {
		return nil, fmt.Errorf("reading its registers: %w", err)
	}
	if _, err := unix.PtracePokeText(pid, uintptr(t.Entry.Rip), []byte{0x0f, 0x05}); err != nil { // syscall
		return nil, fmt.Errorf("writing its system call: %w", err)
	}
	return t, nil
}

// Start makes the tracee call nr with args at its entry point and step past the call, without
// waiting for it: the caller waits (Wait), as for a call that stops on the way (a clone's
// event).
func (t *Tracee) Start(nr uint64, args ...uint64) error {
	regs := t.Entry
	regs.Rax, regs.Orig_rax = nr, ^uint64(0)
	for i, r := range []*uint64{&regs.Rdi, &regs.Rsi, &regs.Rdx, &regs.R10, &regs.R8, &regs.R9} {
		*r = 0
		if i < len(args) {
			*r = args[i]
		}
	}
	if err := unix.PtraceSetRegs(t.Pid, &regs); err != nil {
		return fmt.Errorf("setting its registers: %w", err)
	}
	return unix.PtraceSingleStep(t.Pid)
}

// Result is the return value of the call that stopped the tracee after its step.
func (t *Tracee) Result() (int64, error) {
	var regs unix.PtraceRegs
	if err := unix.PtraceGetRegs(t.Pid, &regs); err != nil {
		return 0, fmt.Errorf("reading its registers: %w", err)
	}
	return int64(regs.Rax), nil
}

// Call makes the tracee call nr with args and fails unless the call returns 0 (an execve
// returns 0 in the new program); what names the call in errors.
func (t *Tracee) Call(what string, nr uint64, args ...uint64) error {
	if err := t.Start(nr, args...); err != nil {
		return fmt.Errorf("making it call %s: %w", what, err)
	}
	if ws, err := Wait(t.Pid); err != nil {
		return fmt.Errorf("waiting for its %s: %w", what, err)
	} else if ws.StopSignal() != unix.SIGTRAP {
		return fmt.Errorf("its %s stopped with %v", what, ws.StopSignal())
	}
	r, err := t.Result()
	if err != nil {
		return err
	}
	if r != 0 {
		return fmt.Errorf("its %s: %w", what, unix.Errno(-r))
	}
	return nil
}

// Wait waits for this thread's tracee pid to stop, and says so when it ended instead.
func Wait(pid int) (unix.WaitStatus, error) {
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
