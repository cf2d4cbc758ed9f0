package tracee

import (
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// startAtEntry starts argv traced by this locked thread and returns it stopped at its entry
// point, about to run the code WriteCalls writes (as a clone of it would be).
func startAtEntry(t *testing.T, argv ...string) *Tracee {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting a traced child: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	tr, err := AtEntry(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// runFrom points pid at the code WriteCalls wrote and runs it.
func runFrom(t *testing.T, tr *Tracee, calls []Syscall) error {
	t.Helper()
	regs := tr.Entry
	regs.Rip += 2
	if err := unix.PtraceSetRegs(tr.Pid, &regs); err != nil {
		t.Fatal(err)
	}
	if err := unix.PtraceSetOptions(tr.Pid, unix.PTRACE_O_EXITKILL|unix.PTRACE_O_TRACEEXEC); err != nil {
		t.Fatal(err)
	}
	return RunCalls(tr.Pid, calls)
}

// TestRunCallsStopsAtTheFirstFailure: the calls are made in order, and the first that fails
// is named with its error; none after it is made.
func TestRunCallsStopsAtTheFirstFailure(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tr := startAtEntry(t, "/bin/sleep", "60")
	calls := []Syscall{
		{What: "prctl(PR_SET_PDEATHSIG)", Nr: unix.SYS_PRCTL, Args: []uint64{unix.PR_SET_PDEATHSIG, uint64(unix.SIGKILL)}},
		{What: "prctl(PR_SET_NAME)", Nr: unix.SYS_PRCTL, Args: []uint64{unix.PR_SET_NAME, 0}}, // no name: EFAULT
		{What: "exit_group", Nr: unix.SYS_EXIT_GROUP, Args: []uint64{3}},
	}
	if err := tr.WriteCalls(calls); err != nil {
		t.Fatal(err)
	}
	err := runFrom(t, tr, calls)
	if !errors.Is(err, unix.EFAULT) || !strings.Contains(err.Error(), "prctl(PR_SET_NAME)") {
		t.Fatalf("RunCalls = %v; want prctl(PR_SET_NAME)'s EFAULT", err)
	}
	// It stopped there: neither ended by the exit_group after it nor let go.
	status, err := os.ReadFile("/proc/" + strconv.Itoa(tr.Pid) + "/status")
	if err != nil || !strings.Contains(string(status), "State:\tt") {
		t.Fatalf("the process is gone or running after the failed call: %v %q", err, firstLines(status))
	}
}

// TestRunCallsExecs: calls that end in an execve (its name and vectors in the tracee's memory,
// above 4 GiB: the 64-bit form of each move) run the new program, and RunCalls returns at its
// exec.
func TestRunCallsExecs(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tr := startAtEntry(t, "/bin/sh", "-c", `grep -q "^State:" /proc/self/status && exit 5`)
	word := make([]byte, 8)
	if _, err := unix.PtracePeekData(tr.Pid, uintptr(tr.Entry.Rsp), word); err != nil {
		t.Fatal(err)
	}
	argc := binary.LittleEndian.Uint64(word)
	path := []byte("/bin/sh\x00")
	at := uintptr(tr.Entry.Rsp-2048) &^ 15
	if _, err := unix.PtracePokeData(tr.Pid, at, path); err != nil {
		t.Fatal(err)
	}
	argv := tr.Entry.Rsp + 8
	calls := []Syscall{
		{What: "prctl(PR_SET_PDEATHSIG)", Nr: unix.SYS_PRCTL, Args: []uint64{unix.PR_SET_PDEATHSIG, uint64(unix.SIGKILL)}},
		{What: "execve", Nr: unix.SYS_EXECVE, Args: []uint64{uint64(at), argv, argv + 8*(argc+1)}},
	}
	if err := tr.WriteCalls(calls); err != nil {
		t.Fatal(err)
	}
	if err := runFrom(t, tr, calls); err != nil {
		t.Fatalf("RunCalls = %v; want the exec", err)
	}
	if err := unix.PtraceDetach(tr.Pid); err != nil {
		t.Fatal(err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(tr.Pid, &ws, unix.WALL, nil); err != nil || ws.ExitStatus() != 5 {
		t.Fatalf("the program exec'd exited with %v (%v); want 5", ws, err)
	}
}

func firstLines(b []byte) string {
	lines := strings.SplitN(string(b), "\n", 4)
	return strings.Join(lines[:min(3, len(lines))], "; ")
}
