package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/events"
)

// TestRootlessStageIsCloned checks that a rootless launch on this host takes the cheap way into
// the sandbox's namespaces — the stage vforked, then cloned into them — rather than Go forking
// all of agentrun (which costs every page agentrun writes after it a fault): the launch reaches
// the step agentrun records only then, the run works, and the agent's first exec is recorded. A host where the clone may not be
// made (Yama's ptrace_scope 2 or 3, AppArmor restricting user namespaces, not amd64) falls
// back to the fork, silently: the sandbox is the same.
func TestRootlessStageIsCloned(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the stage is cloned into its namespaces on amd64 only")
	}
	for _, f := range []struct{ path, refuse string }{
		{"/proc/sys/kernel/yama/ptrace_scope", "23"},
		{"/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1"},
	} {
		if b, err := os.ReadFile(f.path); err == nil && strings.Contains(f.refuse, strings.TrimSpace(string(b))) {
			t.Skipf("%s is %s here: rootless stages are forked", f.path, strings.TrimSpace(string(b)))
		}
	}
	r := newRunner(t, true)
	stepsFile := filepath.Join(r.tmp, "steps")
	r.env = append(r.env, "AGENTRUN_BENCH_STEPS="+stepsFile)
	res := r.run(t, "--profile", "base", "--network=none", "--", "sh", "-c", "echo $$; cat /proc/self/uid_map")
	if res.code != 0 {
		t.Fatalf("the run failed: %s", res)
	}
	uid := strconv.Itoa(r.uid)
	if f := strings.Fields(res.stdout); len(f) != 4 || len(f[0]) > 2 || f[1] != uid || f[2] != uid || f[3] != "1" {
		t.Fatalf("the agent's shell says %q: want a PID of the sandbox's own namespace and the user mapped to itself (%s)", res.stdout, uid)
	}
	b, err := os.ReadFile(stepsFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), " stage cloned into its namespaces\n") {
		t.Fatalf("the rootless stage was forked into its namespaces, not cloned; the launch's steps:\n%s", b)
	}

	// The agent's first exec is made by a process that shares the stage's memory until it
	// has exec'd: agentrun reads its path there, which it may only where that memory belongs
	// to the sandbox's user namespace (the clone execs the stage again inside it).
	prog, err := filepath.EvalSymlinks("/usr/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	res = r.run(t, "--mode", "audit", "--trace", "--allow-degraded", "--profile", "base", "--network", "none", "--", "true")
	if res.code != 0 {
		t.Fatalf("the audit run failed: %s", res)
	}
	evs := storedEvents(t, r) // this fixture's store: this run's (the one before recorded nothing)
	if !hasEvent(evs, "exec exec "+prog) {
		t.Errorf("the agent's first exec (%s) is not recorded: %v", prog, keys(evs))
	}
}

// TestRootlessStageFallsBackToTheFork checks the way around the clone: where agentrun's stage
// may not be traced (here agentrun itself and all it starts are traced by this test, so the
// stage's PTRACE_TRACEME fails, as under strace or a debugger), the launch forks the stage as
// before — the same sandbox, the agent's user mapped to itself, its exec recorded — and leaves
// nothing of the refused try behind.
func TestRootlessStageFallsBackToTheFork(t *testing.T) {
	r := newRunner(t, true)
	stepsFile := filepath.Join(r.tmp, "steps")
	r.env = append(r.env, "AGENTRUN_BENCH_STEPS="+stepsFile)
	out := filepath.Join(r.tmp, "out")
	cmd := r.command(context.Background(), "--mode", "audit", "--trace", "--allow-degraded", "--profile", "base", "--network", "none",
		"--", "sh", "-c", "cat /proc/self/uid_map > "+out)
	code, err := runTraced(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 {
		t.Fatalf("the traced run exited %d", code)
	}
	b, err := os.ReadFile(out)
	uid := strconv.Itoa(r.uid)
	if f := strings.Fields(string(b)); err != nil || len(f) != 3 || f[0] != uid || f[1] != uid || f[2] != "1" {
		t.Fatalf("the agent's uid_map: %q, %v; want %s %s 1", b, err, uid, uid)
	}
	if steps, _ := os.ReadFile(stepsFile); strings.Contains(string(steps), " stage cloned into its namespaces\n") {
		t.Fatalf("the stage was cloned although it could not be traced:\n%s", steps)
	}
	sh, err := filepath.EvalSymlinks("/usr/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	if evs := storedEvents(t, r); !hasEvent(evs, "exec exec "+sh) {
		t.Errorf("the agent's first exec (%s) is not recorded: %v", sh, keys(evs))
	}
}

// runTraced runs cmd traced from its exec, with every process it starts traced too (their
// own PTRACE_TRACEME then fails), each stop let go with its signal, and returns its exit code.
func runTraced(cmd *exec.Cmd) (int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	pid := cmd.Process.Pid
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); err != nil || !ws.Stopped() {
		return 0, fmt.Errorf("waiting for its exec stop: %v (%#x)", err, uint32(ws))
	}
	opts := unix.PTRACE_O_TRACECLONE | unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK | unix.PTRACE_O_EXITKILL
	if err := unix.PtraceSetOptions(pid, opts); err != nil {
		return 0, err
	}
	if err := unix.PtraceCont(pid, 0); err != nil {
		return 0, err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		p, err := unix.Wait4(-1, &ws, unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		switch {
		case ws.Exited() && p == pid:
			_ = cmd.Process.Release()
			return ws.ExitStatus(), nil
		case ws.Signaled() && p == pid:
			return 128 + int(ws.Signal()), nil
		case ws.Stopped():
			sig := ws.StopSignal()
			if sig == unix.SIGTRAP || (sig == unix.SIGSTOP && ws.TrapCause() == -1) {
				sig = 0 // ptrace's own stops: an event, an exec, a new tracee's first stop
			}
			_ = unix.PtraceCont(p, int(sig))
		}
	}
	_ = cmd.Process.Kill()
	return 0, errors.New("the traced run took more than 2 minutes")
}

func hasEvent(evs []events.Event, key string) bool {
	_, ok := findEvent(evs, key)
	return ok
}
