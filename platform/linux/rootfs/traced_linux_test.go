package rootfs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// envTracedChild makes the test binary the child of TestIDMapUnderATracer.
const envTracedChild = "AGENTRUN_TEST_TRACED_CHILD"

// tracedChild tries to make an idmapping's namespace while it is traced with its children
// followed, and prints the error.
func tracedChild() {
	proc, err := OpenProc("/proc")
	if err != nil {
		fmt.Println("opening /proc:", err)
		os.Exit(2)
	}
	fd, err := NewIDMapUserns(proc, IDMapping{OwnerUID: pendingOwner, OwnerGID: pendingOwner, UID: pendingAgent, GID: pendingAgent})
	if err == nil {
		unix.Close(fd)
		fmt.Println("made")
		os.Exit(0)
	}
	fmt.Println(err)
	os.Exit(1)
}

// TestIDMapUnderATracer: where the stage is traced with its children followed (strace -f, a
// debugger), the idmapping's process cannot be traced by the stage; the error says why and
// what to do, rather than a bare "operation not permitted". The test traces a child as strace
// -f does: every thread and child it makes is traced too, each stop let go on.
func TestIDMapUnderATracer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: an idmapping's user namespace with other ids")
	}
	// A tracee's tracer is the thread that started it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envTracedChild+"=1")
	cmd.Stdout = w
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	defer r.Close()
	defer cmd.Process.Release() // reaped below, by Wait4
	pid := cmd.Process.Pid
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); err != nil || !ws.Stopped() {
		t.Fatalf("the child did not stop at its exec: %v, %v", err, ws)
	}
	opts := unix.PTRACE_O_TRACECLONE | unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK | unix.PTRACE_O_EXITKILL
	if err := unix.PtraceSetOptions(pid, opts); err != nil {
		t.Fatal(err)
	}
	if err := unix.PtraceCont(pid, 0); err != nil {
		t.Fatal(err)
	}
	code := -1
	for code < 0 {
		tid, err := unix.Wait4(-1, &ws, unix.WALL, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			t.Fatalf("waiting for the traced child: %v", err)
		}
		switch {
		case tid == pid && ws.Exited():
			code = ws.ExitStatus()
		case ws.Stopped():
			sig := ws.StopSignal()
			if sig == unix.SIGTRAP || sig == unix.SIGSTOP {
				sig = 0 // a ptrace event, or a new tracee's first stop
			}
			_ = unix.PtraceCont(tid, int(sig))
		}
	}
	out := make([]byte, 4096)
	n, _ := r.Read(out)
	msg := strings.TrimSpace(string(out[:n]))
	if code != 1 || !strings.Contains(msg, "operation not permitted") || !strings.Contains(msg, "itself traced") || !strings.Contains(msg, "--as-root") {
		t.Fatalf("traced, the idmapping's start: exit %d, %q; want it refused, saying the stage is traced and what to do", code, msg)
	}
	// Untraced, the same child makes it.
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envTracedChild+"=1")
	if b, err := cmd.Output(); err != nil || strings.TrimSpace(string(b)) != "made" {
		t.Fatalf("untraced, the idmapping's start: %v, %q", err, b)
	}
}
