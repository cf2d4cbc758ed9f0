package linux

import (
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The main goroutine keeps the main thread, so that no test's goroutine runs there: Go never
// ends the main thread, even under a goroutine that ends locked to it.
func init() { runtime.LockOSThread() }

// startCloned starts argv as nobody, stopped at its exec on this locked thread, and clones
// it into new user, PID, mount and UTS namespaces, its user mapped to itself, with
// CAP_NET_ADMIN and CAP_SYS_ADMIN ambient, as a rootless stage is; the original is reaped.
func startCloned(stdout *os.File, argv ...string) (*os.Process, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL, Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	proc, err := cloneIntoNamespaces(cmd.Process.Pid, unix.CLONE_NEWUSER|unix.CLONE_NEWPID|unix.CLONE_NEWNS|unix.CLONE_NEWUTS,
		func(pid int) error { return writeSelfMaps(pid, nobody, nobody) }, []uintptr{unix.CAP_NET_ADMIN, unix.CAP_SYS_ADMIN})
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return proc, err
}

const nobody = 65534

// The clone runs its program again (a dynamically linked shell), as PID 1 of its own PID
// namespace, in a user namespace of its own with its user mapped to itself, with the ambient
// capabilities asked for, as a child of this process, which reaps it.
func TestCloneIntoNamespaces(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	proc, err := startCloned(w, "/bin/sh", "-c", `echo "$$ $PPID $(cat /proc/self/uid_map) $(readlink /proc/self/ns/user) $(grep CapAmb /proc/self/status)"; exit 7`)
	w.Close()
	if err != nil {
		t.Fatalf("cloneIntoNamespaces: %v", err)
	}
	state, err := proc.Wait()
	if err != nil {
		t.Fatalf("waiting for the clone (it must be this process's child): %v", err)
	}
	b, _ := io.ReadAll(r)
	out := string(b)
	if state.ExitCode() != 7 {
		t.Fatalf("the clone exited with %v, want 7 (output %q)", state, out)
	}
	ours, err := os.Readlink("/proc/self/ns/user")
	if err != nil {
		t.Fatal(err)
	}
	uid := strconv.Itoa(nobody)
	f := strings.Fields(out)
	if len(f) != 8 || f[0] != "1" || f[1] != "0" || f[2] != uid || f[3] != uid || f[4] != "1" || f[5] == ours || f[7] != "0000000000201000" {
		t.Fatalf("the clone said %q: want PID 1, parent 0 (outside its namespace), uid_map %s %s 1, a user namespace other than %s, CAP_NET_ADMIN and CAP_SYS_ADMIN ambient (201000)", out, uid, uid, ours)
	}
}

// A clone does not inherit its original's parent-death signal: it is given it, so that the
// stage dies with the thread that started it, as a forked stage does.
func TestCloneIntoNamespacesDiesWithItsParent(t *testing.T) {
	type started struct {
		proc *os.Process
		err  error
	}
	c := make(chan started, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		proc, err := startCloned(nil, "/bin/sleep", "60")
		c <- started{proc, err}
	}()
	s := <-c
	if s.err != nil {
		t.Fatalf("cloneIntoNamespaces: %v", s.err)
	}
	proc := s.proc
	done := make(chan *os.ProcessState, 1)
	go func() {
		state, _ := proc.Wait()
		done <- state
	}()
	select {
	case state := <-done:
		if ws, ok := state.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("the clone ended with %v, want killed by SIGKILL", state)
		}
	case <-time.After(20 * time.Second):
		_ = proc.Kill()
		t.Fatal("the clone outlived the thread that started it by 20 s: no parent-death signal")
	}
}

// The clone's capabilities travel in the first word of the capability sets: the stage's fit,
// and one beyond it is refused, not lost (Go's 1 << 34 in a uint32 is 0).
func TestCapMask(t *testing.T) {
	if m, err := capMask(stageAmbientCaps); err != nil || m != 1<<unix.CAP_SYS_ADMIN|1<<unix.CAP_NET_ADMIN|1<<unix.CAP_SETPCAP {
		t.Errorf("capMask(the stage's) = %#x, %v", m, err)
	}
	if m, err := capMask([]uintptr{unix.CAP_NET_ADMIN, unix.CAP_SYSLOG}); err == nil {
		t.Errorf("capMask with CAP_SYSLOG (34) = %#x, want an error", m)
	}
}
