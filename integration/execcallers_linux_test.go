package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/events"
)

// execsProfile makes ~/tools readable but not executable: what the agent runs from there is
// refused, by Landlock, with the program still the caller's.
const execsProfile = `name: execs
extends: [base]
filesystem:
  read: [~/tools]
`

// TestEnforceExecCallers: in enforce mode an exec of a program the policy allows, known to be
// no script, goes on without agentrun reading its caller (fileaudit's needsCaller). The execs
// enforce mode records still name their caller and its chain: one the policy refuses, after
// many allowed execs of other programs and again once the refused program is known, and one
// of a script whose interpreter the policy refuses.
func TestEnforceExecCallers(t *testing.T) {
	for _, unprivileged := range []bool{false, true} {
		name := "root"
		if unprivileged {
			name = "user"
		}
		t.Run(name, func(t *testing.T) { testEnforceExecCallers(t, unprivileged) })
	}
}

func testEnforceExecCallers(t *testing.T, unprivileged bool) {
	r := newRunner(t, unprivileged)
	elf, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	tools := filepath.Join(r.home, "tools")
	prog, interp := filepath.Join(tools, "prog"), filepath.Join(tools, "interp")
	writeOwned(t, r, prog, string(elf))
	writeOwned(t, r, interp, string(elf))
	wrapper := filepath.Join(r.ws, "wrapper")
	writeOwned(t, r, wrapper, "#!"+interp+"\n")
	profile := filepath.Join(r.home, "execs.yaml")
	writeOwned(t, r, profile, execsProfile)
	for _, p := range []string{prog, interp, wrapper} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := `for i in $(seq 40); do /usr/bin/true; /usr/bin/env true; done
` + prog + `; echo "prog=$?"
./wrapper; echo "wrapper=$?"
for i in $(seq 40); do /usr/bin/true; done
sh -c '` + prog + `; echo "again=$?"' second-caller
python3 -c 'import os; os.execve(os.open("` + prog + `", os.O_RDONLY), ["prog"], {})' fexecve-caller; echo "fexecve=$?"
python3 -c 'import os; os.execv("/proc/self/fd/%d" % os.open("` + prog + `", os.O_RDONLY), ["prog"])' proc-fd-caller; echo "procfd=$?"
exit 3`
	res := r.run(t, "--profile", profile, "--network", "none", "--", "sh", "-c", script)
	for _, want := range []string{"prog=126", "wrapper=126", "again=126", "fexecve=1", "procfd=1"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("want %s (the exec refused): %s", want, res)
		}
	}
	if res.code != 3 {
		t.Fatalf("enforce run: %s", res)
	}
	evs := storedEvents(t, r, "--run", runID(t, res))
	callers := map[string][]string{} // path → the processes its refused execs name
	for _, e := range evs {
		if e.Kind != events.KindExec || e.Verdict != events.Denied {
			continue
		}
		if e.Process == "" || len(e.Chain) == 0 {
			t.Errorf("a refused exec names no caller: %+v", e)
		}
		callers[e.Path] = append(callers[e.Path], e.Process)
	}
	for _, c := range []struct{ path, caller string }{
		{prog, "sh -c for i in"},
		{prog, "second-caller"},
		// The ways around the path: execveat of a descriptor (fexecve) the filter refuses
		// before any exec (EACCES, no event: every descriptor's, see seccompfilter's
		// Denials); the descriptor's /proc magic link is followed to the program.
		{prog, "proc-fd-caller"},
		{interp, "sh -c for i in"},
	} {
		found := false
		for _, p := range callers[c.path] {
			found = found || strings.Contains(p, c.caller)
		}
		if !found {
			t.Errorf("no refused exec of %s names its caller %q: %q (all: %v)", c.path, c.caller, callers[c.path], evs)
		}
	}
}
