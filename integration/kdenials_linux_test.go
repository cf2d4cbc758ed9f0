package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/platform"
)

// enforceScript is refused by the kernel in three ways and allowed once: a denied secret
// (hidden by its deny rule), a create outside the write roots (a read-only bind), a mkdir
// there, and a write in the workspace, which must not be recorded as anything.
const enforceScript = `cat ~/.aws/credentials; echo x > /etc/agentrun-refused; mkdir /usr/agentrun-refused; echo ok > made.txt && cat made.txt; exit 3`

// TestEnforceDenialsFromTheKernelAsRoot: in enforce mode no file call waits for agentrun,
// yet as root every refusal the policy explains is recorded, from the kernel (the denial
// records layer), with the rule that made it — and an allowed write is not.
func TestEnforceDenialsFromTheKernelAsRoot(t *testing.T) {
	r := newRunner(t, false)
	if res := r.run(t, "--profile", r.profile, "--dry-run", "--", "true"); !strings.HasPrefix(layerLine(res.stdout, platform.LayerDenials), "on: ") {
		t.Fatalf("dry-run as root: want the %s layer on: %s", platform.LayerDenials, res)
	}
	res := r.sh(t, enforceScript)
	if res.code != 3 || !strings.Contains(res.stdout, "ok\n") || strings.Contains(res.stdout, "aws_secret") {
		t.Fatalf("enforce run: %s", res)
	}
	if strings.Contains(res.stderr, platform.NoDenialRecords) {
		t.Errorf("as root the run says its denials are not recorded: %s", res)
	}
	evs := storedEvents(t, r, "--run", runID(t, res))
	for key, rule := range map[string]string{
		"file read " + r.home + "/.aws/credentials": "filesystem.deny",
		"file create /etc/agentrun-refused":         "",
		"file mkdir /usr/agentrun-refused":          "",
	} {
		e, ok := findEvent(evs, key)
		if !ok || e.Verdict != events.Denied || !strings.HasPrefix(e.Rule, rule) || e.Process == "" {
			t.Errorf("%s: want a denial (rule %q…, with its process), got %+v (found %v)", key, rule, e, ok)
		}
	}
	for _, e := range evs {
		if strings.HasSuffix(e.Path, "/made.txt") {
			t.Errorf("the allowed write in the workspace is recorded: %+v", e)
		}
		if e.Kind == events.KindFile && e.Verdict == events.Allowed {
			t.Errorf("enforce mode without --trace recorded an allowed access: %+v", e)
		}
	}
}

// TestEnforceDenialsUnrecordedUnprivileged: rootless, the kernel's refusals cannot be read,
// and in enforce mode no file call waits for agentrun (issue 13), so neither a denied read nor
// a refused write is recorded; dry-run, doctor and the summary of a failed run say so and how
// to see them, and --trace records both, through the seccomp notifications.
func TestEnforceDenialsUnrecordedUnprivileged(t *testing.T) {
	r := newRunner(t, true)
	if res := r.run(t, "--profile", r.profile, "--dry-run", "--", "true"); !strings.HasPrefix(layerLine(res.stdout, platform.LayerDenials), "unavailable: ") || !strings.Contains(res.stdout, platform.NoDenialRecords) {
		t.Errorf("dry-run rootless: want the %s layer unavailable, and why: %s", platform.LayerDenials, res)
	}
	if res := r.run(t, "doctor"); !strings.Contains(res.stdout, "denial records") || !strings.Contains(res.stdout, platform.NoDenialRecords) {
		t.Errorf("doctor rootless: want the denial records line: %s", res)
	}
	res := r.sh(t, enforceScript)
	if res.code != 3 || !strings.Contains(res.stdout, "ok\n") {
		t.Fatalf("enforce run: %s", res)
	}
	if n := strings.Count(res.stderr, platform.NoDenialRecords); n != 1 {
		t.Errorf("the failed run's summary says %d times that its denials are not recorded, want once: %s", n, res)
	}
	if strings.Contains(res.stderr, "agentrun log --run") {
		t.Errorf("the run points to recorded events: %s", res)
	}
	refused := []string{"file read " + r.home + "/.aws/credentials", "file create /etc/agentrun-refused", "file mkdir /usr/agentrun-refused"}
	evs := storedEvents(t, r) // every run's: this one's has no ID to ask for
	for _, key := range refused {
		if e, ok := findEvent(evs, key); ok {
			t.Errorf("rootless, a refused call is recorded without --trace (so it waited for agentrun): %+v", e)
		}
	}
	if res := r.sh(t, "true"); strings.Contains(res.stderr, platform.NoDenialRecords) {
		t.Errorf("a run that succeeded speaks of denials: %s", res)
	}
	res = r.sh(t, enforceScript, "--trace")
	if strings.Contains(res.stderr, platform.NoDenialRecords) {
		t.Errorf("with --trace the run says its denials are not recorded: %s", res)
	}
	evs = storedEvents(t, r, "--run", runID(t, res))
	for _, key := range refused {
		if e, ok := findEvent(evs, key); !ok || e.Verdict != events.Denied {
			t.Errorf("--trace: %s is not recorded as denied: %+v (found %v)", key, e, ok)
		}
	}
}

// layerLine is what --dry-run's output says of layer name: its state and what it enforces.
func layerLine(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "layer "+name); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// TestEnforceRelativeRefusalsOfEndedProcesses: the kernel's refusals are read after their
// calls, often once their process has ended (cat prints its error and exits), when its
// working directory can no longer be read: a relative path is then placed from the directory
// the process started its program in (`cd /etc && cat shadow`: /etc), not from the agent's,
// where it would name some other file and record nothing. The same for a path through
// /proc/self/cwd.
func TestEnforceRelativeRefusalsOfEndedProcesses(t *testing.T) {
	r := newRunner(t, false)
	res := r.sh(t, `cd /etc && cat shadow; cd /etc && cat /proc/self/cwd/shadow; cd /usr && mkdir agentrun-refused-rel; exit 3`)
	if res.code != 3 {
		t.Fatalf("enforce run: %s", res)
	}
	evs := storedEvents(t, r, "--run", runID(t, res))
	n := 0
	for _, e := range evs {
		if eventKey(e) == "file read /etc/shadow" && e.Verdict == events.Denied {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d denied reads of /etc/shadow recorded, want 2 (as shadow, and through /proc/self/cwd): %v", n, keys(evs))
	}
	for _, key := range []string{"file read /etc/shadow", "file mkdir /usr/agentrun-refused-rel"} {
		e, ok := findEvent(evs, key)
		if !ok || e.Verdict != events.Denied {
			t.Errorf("%s: want a denial, got %v", key, keys(evs))
			continue
		}
		if strings.Contains(e.Reason, "agent's working directory") {
			t.Errorf("%s: placed from the agent's working directory: %s", key, e.Reason)
		}
	}
}

// TestDenialsRecordedUnderLoad: runs at once, each a loop of short processes refused a
// secret (and, every one, a dozen probes for locale files that are not there, which the kernel
// refuses too): every denial of each run is recorded, none is lost to a full kernel buffer, in
// enforce mode and in audit mode (where the recorder of opened files and the notifier run
// beside it). The probes repeat, and repeated refusals already judged to be nothing are passed
// over, not decoded again; the buffer holds what comes while agentrun waits for a processor
// (five runs at once of 1,000 lost 12–22 % of their denials each before).
func TestDenialsRecordedUnderLoad(t *testing.T) {
	r := newRunner(t, false)
	const runs, each = 4, 500
	for _, mode := range []string{"enforce", "audit"} {
		var wg sync.WaitGroup
		results := make([]result, runs)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = r.sh(t, fmt.Sprintf(`for n in $(seq %d); do cat /etc/shadow 2>/dev/null; done; true`, each), "--mode", mode)
			}()
		}
		wg.Wait()
		want := map[string]events.Verdict{"enforce": events.Denied, "audit": events.WouldDeny}[mode]
		for i, res := range results {
			if res.code != 0 {
				t.Fatalf("%s run %d: %s", mode, i, res)
			}
			if strings.Contains(res.stderr, "not recorded") {
				t.Errorf("%s run %d lost records: %s", mode, i, res.stderr)
			}
			n := 0
			for _, e := range storedEvents(t, r, "--run", runID(t, res)) {
				if eventKey(e) == "file read /etc/shadow" && e.Verdict == want {
					n++
				}
			}
			if n != each {
				t.Errorf("%s run %d: %d of its %d denials recorded", mode, i, n, each)
			}
		}
	}
}

// TestSteadyProbesPassedOverInTheKernel: a refusal that is nothing (a probe for a file that is
// not there) on a path the sandbox cannot make lead elsewhere is passed over by the kernel's
// recorder once agentrun has judged it (every program's loader and locale probes), while a
// denial made again and again is recorded each time.
func TestSteadyProbesPassedOverInTheKernel(t *testing.T) {
	r := newRunner(t, false)
	stepsFile := filepath.Join(r.tmp, "steps")
	r.env = append(r.env, "AGENTRUN_BENCH_STEPS="+stepsFile)
	res := r.sh(t, `for i in $(seq 30); do cat /usr/lib/agentrun-nothere; cat ~/.aws/credentials; done 2>/dev/null; exit 3`)
	if res.code != 3 || strings.Contains(res.stdout, "aws_secret") {
		t.Fatalf("enforce run: %s", res)
	}
	n := 0
	for _, e := range storedEvents(t, r, "--run", runID(t, res)) {
		if eventKey(e) == "file read "+r.home+"/.aws/credentials" && e.Verdict == events.Denied {
			n++
		}
	}
	if n != 30 {
		t.Errorf("%d of the 30 denials recorded", n)
	}
	b, err := os.ReadFile(stepsFile)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(` recorder: \d+ refusals read, (\d+) passed over in the kernel\n`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("the run's steps say nothing of the recorder's pass-overs:\n%s", b)
	}
	if passed, _ := strconv.Atoi(string(m[1])); passed < 30 {
		t.Errorf("%d refusals passed over in the kernel; want at least one of each cat's loader probes", passed)
	}
}

// TestRepeatedRefusalsStayRecorded is the way around the passing over of repeated refusals:
// the agent has a read refused where it leads to nothing (ENOENT, nothing to record), then
// makes the same path lead to a secret the sandbox hides and reads it again (ENOENT again, now
// a denial). The second must be recorded, however the path was changed: a symlink of its own
// retargeted, a parent directory replaced by a symlink, a symlink put at the path itself.
func TestRepeatedRefusalsStayRecorded(t *testing.T) {
	r := newRunner(t, false)
	for name, script := range map[string]string{
		"link retargeted":  `ln -s /nonexistent /tmp/l; cat /tmp/l/credentials; ln -sfn "$HOME/.aws" /tmp/l; cat /tmp/l/credentials; exit 3`,
		"parent replaced":  `mkdir /tmp/d; cat /tmp/d/credentials; rmdir /tmp/d; ln -s "$HOME/.aws" /tmp/d; cat /tmp/d/credentials; exit 3`,
		"leaf made a link": `mkdir /tmp/e; cat /tmp/e/credentials; ln -s "$HOME/.aws/credentials" /tmp/e/credentials; cat /tmp/e/credentials; exit 3`,
		// The workspace is a writable bind of the file system /usr is on: never steady.
		"in the workspace": `mkdir "$PWD/f"; cat "$PWD/f/credentials"; rmdir "$PWD/f"; ln -s "$HOME/.aws" "$PWD/f"; cat "$PWD/f/credentials"; exit 3`,
	} {
		res := r.run(t, "--profile", "base", "--network", "none", "--", "sh", "-c", script)
		if res.code != 3 || strings.Contains(res.stdout, "aws_secret") {
			t.Fatalf("%s: enforce run: %s", name, res)
		}
		if !strings.Contains(res.stderr, "No such file") {
			t.Fatalf("%s: want the secret hidden (ENOENT), as the first target was: %s", name, res)
		}
		evs := storedEvents(t, r, "--run", runID(t, res))
		if e, ok := findEvent(evs, "file read "+r.home+"/.aws/credentials"); !ok || e.Verdict != events.Denied {
			t.Errorf("%s: the read of the hidden secret the second time is not recorded: %v", name, keys(evs))
		}
	}
}
