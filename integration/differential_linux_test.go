package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/agentrun/agentrun/events"
)

// TestDifferential runs one corpus of file operations (diffCorpus) in audit mode and in
// enforce mode and requires, both ways, that audit mode's would-deny events are exactly the
// steps enforce mode made fail — as the script itself sees them fail, not as agentrun says —
// and that enforce mode's own denials are the same set: the kernel's refusals as root, the
// notifications of --trace rootless. A step that fails whatever the policy (EEXIST, ENOENT of
// a missing file in an allowed place) has no event either way.
func TestDifferential(t *testing.T) {
	asRootAndUser(t, func(t *testing.T, r *runner) {
		if r.unprivate {
			usableTUN(t) // audit mode's network filter, --network none or not
		}
		tag := "agentrun-difftest-" + filepath.Base(filepath.Dir(r.home))
		t.Cleanup(func() {
			for _, p := range []string{"/etc/" + tag, "/usr/" + tag} { // audit mode as root writes there
				if err := os.RemoveAll(p); err != nil {
					t.Errorf("removing %s: %v", p, err)
				}
			}
		})
		profile := filepath.Join(r.home, "difftest.yaml")
		writeOwned(t, r, profile, diffProfile)
		steps := diffCorpus(r, tag)
		argv := []string{"--profile", profile, "--network", "none", "--", "python3", "-I", "-c", diffScript}
		for _, s := range steps {
			argv = append(argv, s.arg())
		}

		prepareCorpus(t, r, tag)
		res := r.run(t, append([]string{"--mode", "audit"}, argv...)...)
		auditOut := stepOutcomes(t, "audit", res, steps)
		auditEvents := deniedKeys(storedEvents(t, r, "--run", runID(t, res)), events.WouldDeny)

		prepareCorpus(t, r, tag)
		res = r.run(t, append(append(r.denials(), "--mode", "enforce"), argv...)...)
		enforceOut := stepOutcomes(t, "enforce", res, steps)
		enforceEvents := deniedKeys(storedEvents(t, r, "--run", runID(t, res)), events.Denied)

		compareDifferential(t, steps, auditOut, enforceOut, auditEvents, enforceEvents)
	})
}

// stepOutcomes reads the script's line a step ("name ok", "name ENOENT") from a run's output.
func stepOutcomes(t *testing.T, mode string, res result, steps []diffStep) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(res.stdout, "\n") {
		if name, outcome, ok := strings.Cut(line, " "); ok {
			out[name] = outcome
		}
	}
	for _, s := range steps {
		if out[s.name] == "" {
			t.Fatalf("%s run: no outcome for step %s: %s", mode, s.name, res)
		}
	}
	return out
}

// deniedKeys are the keys (eventKey) of the file and exec events with verdict v.
func deniedKeys(evs []events.Event, v events.Verdict) map[string]bool {
	keys := map[string]bool{}
	for _, e := range evs {
		if e.Verdict == v && (e.Kind == events.KindFile || e.Kind == events.KindExec) {
			keys[eventKey(e)] = true
		}
	}
	return keys
}

// diffExceptions are the steps whose mismatch is a known bug not fixed here, with why. Only
// audit mode's missing event is excused, and logged; any other mismatch of theirs fails, and so
// does an exception that no longer happens. None today: the paths that exist on the host but
// not in enforce mode's view (mkdir and O_CREAT|O_EXCL of a hidden path: EEXIST in the host's
// view, refused in enforce mode's) are judged in audit mode by enforce mode's view
// (fsplan.Plan.Visible).
var diffExceptions = map[string]string{}

// compareDifferential requires: a step fails in enforce mode for the policy (not with its host
// errno) exactly when the corpus says it is denied; the would-deny events of audit mode, and
// enforce mode's denials, are exactly the events of those steps.
func compareDifferential(t *testing.T, steps []diffStep, auditOut, enforceOut map[string]string, auditEvents, enforceEvents map[string]bool) {
	t.Helper()
	want := map[string]bool{}
	owner := map[string]string{} // event key → step
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "step\taudit outcome\taudit verdict\tenforce outcome\tenforce event\tmismatch")
	failed := false
	for _, s := range steps {
		o := enforceOut[s.name]
		policy := o != "ok" && o != s.host
		var problems []string
		if policy != (len(s.events) > 0) {
			if policy {
				problems = append(problems, "enforce refused a step the policy allows")
			} else {
				problems = append(problems, "enforce let a denied step through")
			}
		}
		auditV, enforceV := verdicts(s.events, auditEvents), verdicts(s.events, enforceEvents)
		for _, k := range s.events {
			owner[k] = s.name
			if policy {
				want[k] = true
			}
			if policy != auditEvents[k] {
				problems = append(problems, "audit: "+presence(auditEvents[k])+" "+k)
			}
			if policy != enforceEvents[k] {
				problems = append(problems, "enforce: "+presence(enforceEvents[k])+" "+k)
			}
		}
		mismatch := strings.Join(problems, "; ")
		if why, ok := diffExceptions[s.name]; ok {
			excused := len(problems) > 0
			for _, p := range problems {
				excused = excused && strings.HasPrefix(p, "audit: missing ")
			}
			switch {
			case excused:
				t.Logf("known exception %s: %s (%s)", s.name, mismatch, why)
				mismatch = "known: " + mismatch
			case mismatch == "":
				t.Errorf("step %s is alike in both modes now: remove it from diffExceptions", s.name)
			default:
				failed = true
			}
		} else if mismatch != "" {
			failed = true
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.name, auditOut[s.name], auditV, o, enforceV, mismatch)
	}
	// Events no step accounts for: each side's extra keys.
	for _, side := range []struct {
		name string
		keys map[string]bool
	}{{"audit would-deny", auditEvents}, {"enforce denied", enforceEvents}} {
		var extra []string
		for k := range side.keys {
			if _, ok := owner[k]; !ok {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		for _, k := range extra {
			failed = true
			fmt.Fprintf(tw, "(no step)\t\t\t\t\t%s event %s\n", side.name, k)
		}
	}
	tw.Flush()
	if len(want) == 0 {
		t.Fatalf("enforce mode refused no step; the comparison proves nothing:\n%s", table.String())
	}
	if failed {
		t.Errorf("audit mode's would-deny events, enforce mode's failures and its denials differ:\n%s", table.String())
	} else {
		t.Logf("%d steps, %d denied events, alike in both modes:\n%s", len(steps), len(want), table.String())
	}
}

// verdicts says which of keys a mode recorded: "-" for none.
func verdicts(keys []string, recorded map[string]bool) string {
	var got []string
	for _, k := range keys {
		if recorded[k] {
			got = append(got, k[strings.LastIndex(k, "/")+1:])
		}
	}
	if len(got) == 0 {
		return "-"
	}
	return strings.Join(got, ",")
}

func presence(b bool) string {
	if b {
		return "unexpected"
	}
	return "missing"
}
