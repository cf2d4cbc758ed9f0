package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const stateRoot = "/run/agentrun"

// leftovers lists what agentrun may leave on the host: container state, root directories,
// cgroups.
func leftovers(t *testing.T) []string {
	t.Helper()
	var out []string
	entries, _ := os.ReadDir(stateRoot)
	for _, e := range entries {
		out = append(out, filepath.Join(stateRoot, e.Name()))
	}
	cgroups, _ := filepath.Glob("/sys/fs/cgroup/*/agentrun")
	out = append(out, cgroups...)
	if _, err := os.Stat("/sys/fs/cgroup/agentrun"); err == nil {
		out = append(out, "/sys/fs/cgroup/agentrun")
	}
	return out
}

// processRunning reports whether a process with this exact command line exists.
func processRunning(args string) bool {
	out, _ := exec.Command("pgrep", "-f", "-x", args).Output()
	return len(strings.TrimSpace(string(out))) > 0
}

// waitForProcess waits until the agent's process with this command line runs.
func waitForProcess(t *testing.T, args string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !processRunning(args); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the agent (%s) did not start", args)
		}
	}
}

// TestSIGKILLLeavesNothing kills agentrun with SIGKILL while its agent runs: the agent dies
// with it, and the next start removes the container, cgroup and state it left.
func TestSIGKILLLeavesNothing(t *testing.T) {
	r := newRunner(t, false)
	if l := leftovers(t); len(l) > 0 {
		t.Fatalf("the host is not clean before the test: %v", l)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := r.command(ctx, "--profile", r.profile, "--network", "none", "--", "sleep", "60.125")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForProcess(t, "sleep 60.125")
	if len(leftovers(t)) == 0 {
		t.Fatal("no container state while the agent runs; the test would prove nothing")
	}
	killThenStartAgain(t, r, cmd, "sleep 60.125")
	if l := leftovers(t); len(l) > 0 {
		t.Errorf("left behind after the next start: %v", l)
	}
}

// killThenStartAgain SIGKILLs the agentrun of cmd, checks that its agent (the process
// whose command line is agent) dies with it, and runs agentrun once more, which cleans up
// what the killed one left.
func killThenStartAgain(t *testing.T, r *runner, cmd *exec.Cmd, agent string) {
	t.Helper()
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	for deadline := time.Now().Add(5 * time.Second); processRunning(agent); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the agent outlived agentrun's SIGKILL")
		}
	}
	if res := r.sh(t, "true"); res.code != 0 {
		t.Fatalf("the next run: %s", res)
	}
}

// TestSIGTERMForwarded sends SIGTERM to agentrun: the agent gets it, and agentrun exits with
// the agent's status after removing everything.
func TestSIGTERMForwarded(t *testing.T) {
	r := newRunner(t, false)
	cmd := r.command(context.Background(), "--profile", r.profile, "--network", "none", "--", "sh", "-c", "trap 'echo got-term; exit 42' TERM; sleep 60.25 & wait")
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForProcess(t, "sleep 60.25")
	_ = cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 42 || !strings.Contains(out.String(), "got-term") {
		t.Errorf("want the agent's trap to run and exit 42, got %d (%v), output %q", code, err, out.String())
	}
	if l := leftovers(t); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}
}

// TestSecondSIGTERMKills checks that an agent which ignores SIGTERM is killed when agentrun
// gets a second one, and that everything is still removed.
func TestSecondSIGTERMKills(t *testing.T) {
	r := newRunner(t, false)
	cmd := r.command(context.Background(), "--profile", r.profile, "--network", "none", "--", "sh", "-c", "trap '' TERM; sleep 60.375 & wait; sleep 60.375")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForProcess(t, "sleep 60.375")
	_ = cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 137 {
		t.Errorf("want 137 after the second SIGTERM, got %d", code)
	}
	if l := leftovers(t); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}
}

// TestClosedStderr: agentrun whose stderr is a pipe nobody reads any more (`agentrun -- make
// 2>&1 | head`) writes its summary into it and must survive that: Go ends a program on
// SIGPIPE for such a write to descriptor 2 unless it asks for the signal, and agentrun then
// left its lock file and a cgroup behind.
func TestClosedStderr(t *testing.T) {
	asRootAndUser(t, func(t *testing.T, r *runner) {
		cmd := r.command(t.Context(), "--profile", r.profile, "--network", "none", "--", "sh", "-c", "sleep 0.3; cat ~/.ssh/id_ed25519 2>/dev/null; exit 3")
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		pr.Close() // no reader: every write to stderr fails
		cmd.Stderr = pw
		err = cmd.Run()
		pw.Close()
		ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if ws.Signaled() || ws.ExitStatus() != 3 {
			t.Errorf("want agentrun to exit with the agent's status 3, got %v (%v)", ws, err)
		}
		if l := leftovers(t); len(l) > 0 {
			t.Errorf("left behind: %v", l)
		}
	})
}
