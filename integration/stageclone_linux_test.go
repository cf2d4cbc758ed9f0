package integration

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
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
	if _, ok := findEvent(evs, "exec exec "+prog); !ok {
		t.Errorf("the agent's first exec (%s) is not recorded: %v", prog, keys(evs))
	}
}
