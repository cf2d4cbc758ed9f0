package integration

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
)

// System calls through the other ABIs of an x86-64 kernel: the 32-bit one (int $0x80, on
// kernels with IA32 emulation, as Debian's) and x32 (syscall with bit 30 set in
// the number). Their numbers differ from the native ones, so a filter that matched numbers
// without checking the architecture would let unshare(CLONE_NEWUSER) through as i386's 310.
// Each attack runs machine code from anonymous executable memory (as a JIT does), so what the
// kernel sees is what the test says.

// pyMachineCode runs the x86-64 machine code hex as a function returning an int, and prints
// "LABEL ok" or "LABEL error ERRNO", then "status S" with python's exit status; the script
// then exits with exit, so that only its output says whether the call was made.
func pyMachineCode(hex, label string, exit int) string {
	return fmt.Sprintf(`python3 -c '%s' %s %s; echo "status $?"; exit %d`, pyMachineCodeFunc, hex, label, exit)
}

// pyMachineCodeFunc is python's part of pyMachineCode: its arguments are the code, in hex,
// and the label.
const pyMachineCodeFunc = `import ctypes, mmap, sys; m = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC); m.write(bytes.fromhex(sys.argv[1])); r = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(m)))(); print(sys.argv[2], "ok" if r >= 0 else "error %d" % -r)`

// Machine code (x86-64).
const (
	// push %rbx; mov $310, %eax; mov $0x10000000, %ebx; int $0x80; pop %rbx; ret: i386's
	// unshare(CLONE_NEWUSER).
	i386UnshareUser = "53b836010000bb00000010cd805bc3"
	// mov $0x40000110, %eax; mov $0x10000000, %edi; syscall; ret: x32's unshare(CLONE_NEWUSER).
	x32UnshareUser = "b810010040bf000000100f05c3"
	// mov $39, %eax; syscall; ret: getpid() through the native ABI.
	nativeGetpid = "b8270000000f05c3"
	// mov $20, %eax; int $0x80; ret: i386's getpid(), harmless, to see whether the host's
	// kernel takes int $0x80 from a 64-bit process at all.
	i386Getpid = "b814000000cd80c3"
)

// hostInt80 reports whether this host's kernel takes system calls through int $0x80 from a
// 64-bit process, unconfined. Some do not, IA32 emulation built in or not (booted with
// ia32_emulation=0; guests of hypervisors that run the kernel itself unprivileged, as the
// PVM guests some CI machines are): there the instruction faults (SIGSEGV) before any
// system call, seccomp's check included, so the sandbox is never asked.
var hostInt80 = sync.OnceValues(func() (bool, error) {
	err := exec.Command("python3", "-c", pyMachineCodeFunc, i386Getpid, "getpid").Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGSEGV:
		return false, nil
	}
	return false, fmt.Errorf("running i386's getpid unconfined: %w", err)
})

// heldInt80 is the int $0x80 attack's verdict: the filter killed it (SIGSYS), or, on a host
// whose kernel faults on the instruction unconfined too (hostInt80), it faulted the same way
// in the sandbox; either way the call never ran.
func heldInt80(_ *runner, res result) error {
	out := res.stdout + res.stderr
	switch {
	case res.code == 0 || strings.Contains(out, "unshare ok"):
		return fmt.Errorf("the call went through: %s", res)
	case strings.Contains(out, sigsysStatus):
		return nil
	}
	works, err := hostInt80()
	switch {
	case err != nil:
		return err
	case works:
		return fmt.Errorf("want %q in the output (this host's kernel takes int $0x80 unconfined): %s", sigsysStatus, res)
	case !strings.Contains(out, "status 139"):
		return fmt.Errorf("want %q, or %q as on this host unconfined (its kernel faults on int $0x80): %s", sigsysStatus, "status 139", res)
	}
	return nil
}

// sigsysStatus is what the shell says of a process the seccomp filter killed (128 + SIGSYS).
const sigsysStatus = "status 159"

func init() {
	escapeAttempts = append(escapeAttempts,
		escapeAttempt{
			class: "other ABI", name: "unshare a user namespace through int $0x80",
			attack: pyMachineCode(i386UnshareUser, "unshare", 1), held: heldInt80,
			control: pyMachineCode(nativeGetpid, "getpid", 0), controlWant: "getpid ok",
		},
		escapeAttempt{
			class: "other ABI", name: "unshare a user namespace through the x32 ABI",
			attack: pyMachineCode(x32UnshareUser, "unshare", 1), want: sigsysStatus,
			control: pyMachineCode(nativeGetpid, "getpid", 0), controlWant: "getpid ok",
		},
	)
}
