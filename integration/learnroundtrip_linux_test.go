package integration

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/events"
)

// TestLearnRoundTrip is issue 15's round trip: learn proposes only rules that, once accepted,
// make the same workload run with zero denials. For each of the toolchain workloads (git, go,
// python, npm, cargo), as root and as a user: a profile of the user's that extends only base
// (and git where git is the tool), so that the workload needs rules it lacks; the workload in
// audit mode, which must succeed; `agentrun learn --yes --allow-write-outside-workspace`; then
// the same workload in enforce mode, which must succeed with no denial recorded. As root the
// kernel's refusals of reads are recorded without --trace; rootless --trace reports every
// access (runner.denials), so that a read learn missed shows. Where learn leaves something
// denied (a secret, a path a built-in denies), the test logs what and why, and enforce mode
// must deny exactly those paths and no others. The agents at work are TestLearnRoundTripAgents.
func TestLearnRoundTrip(t *testing.T) {
	asRootAndUser(t, func(t *testing.T, r *runner) {
		workloads := toolchainWorkloads(t, r)
		// The fast ones first: when a run is short of time, the last ones are the ones to drop.
		order := []string{"git", "go", "python", "npm", "cargo"}
		slices.SortStableFunc(workloads, func(a, b toolchainWorkload) int {
			return slices.Index(order, a.name) - slices.Index(order, b.name)
		})
		for _, w := range workloads {
			t.Run(w.name, func(t *testing.T) {
				if _, err := exec.LookPath(w.needs); err != nil {
					t.Skipf("%s is not installed (scripts/test.sh installs it)", w.needs)
				}
				extends := "[base]"
				if w.name == "git" {
					extends = "[base, git]"
				}
				learnRoundTrip(t, r, w.name, "extends: "+extends+"\n", false, false, func(t *testing.T, mode string, args []string) {
					script := `WS=$PWD RUN=roundtrip-` + w.name + "-" + mode + ` && mkdir -p "$WS/run-$RUN" && cd "$WS/run-$RUN" && ` + w.script
					res := r.run(t, append(args, "--", "sh", "-c", script)...)
					if res.code != 0 || !strings.Contains(res.stdout, w.want) {
						t.Fatalf("%s mode: want exit 0 and %q, got %s", mode, w.want, res)
					}
				})
			})
		}
	})
}

// learnRoundTrip runs one workload through audit → learn → enforce under a profile of its
// own, roundtrip-NAME, whose body (after its name) is body. work runs the workload with
// agentrun's options args (the profile, the mode, the events file; --network=none unless
// network) and fails the test if it did not work. With firstRun, the workload does some
// things only the first time (an agent's first start makes backups and state that later
// starts find): what learn left denied need not be tried again.
func learnRoundTrip(t *testing.T, r *runner, name, body string, network, firstRun bool, work func(t *testing.T, mode string, args []string)) {
	name = "roundtrip-" + name
	profile := filepath.Join(r.home, ".config/agentrun/profiles", name+".yaml")
	writeOwned(t, r, profile, "name: "+name+"\n"+body)
	run := func(mode string) []events.Event {
		t.Helper()
		evFile := eventsFile(t, r)
		args := append([]string{"--profile", name}, runArgs(r, mode, evFile)...)
		if network {
			args = slices.DeleteFunc(args, func(a string) bool { return a == "--network=none" })
		}
		if mode == "enforce" {
			args = append(args, r.denials()...)
		}
		work(t, mode, args)
		return readEvents(t, evFile)
	}

	audit := run("audit")
	if len(notAllowed(audit)) == 0 {
		// Then there is nothing to learn, and enforce mode must still deny nothing.
		t.Logf("audit mode recorded no would-deny event: %s (%q) needs no rule it lacks", name, body)
	}
	res := r.run(t, "learn", name, "--yes", "--allow-write-outside-workspace")
	if res.code != 0 {
		t.Fatalf("agentrun learn: %s", res)
	}
	t.Logf("learn proposed:\n%s", res.stdout)
	leftDenied := map[string]bool{}
	for _, line := range strings.Split(res.stdout, "\n") {
		rest, ok := strings.CutPrefix(line, "left denied: ")
		if !ok {
			continue
		}
		target, why, _ := strings.Cut(rest, " (×")
		if !strings.HasPrefix(target, "/") && !network {
			// A host: with --network=none enforce mode's sandbox has no network to filter,
			// so its query fails with no event (audit mode's filter saw it).
			t.Logf("learn left a host denied, which enforce mode without network does not record: %s (×%s", target, why)
			continue
		}
		leftDenied[volatileKey(target)] = true
		t.Logf("learn left denied, and enforce mode must deny: %s (×%s", target, why)
	}

	var denied []string
	seen := map[string]bool{}
	for _, e := range notAllowed(run("enforce")) {
		if !leftDenied[volatileKey(refusalTarget(e))] {
			denied = append(denied, eventKey(e)+" by "+e.Process+" ("+e.Rule+": "+e.Reason+")")
		}
		seen[volatileKey(refusalTarget(e))] = true
	}
	if len(denied) > 0 {
		t.Errorf("enforce mode after learning: %d denials learn did not leave denied (the rules it proposed do not cover them):\n%s", len(denied), strings.Join(denied, "\n"))
	}
	for target := range leftDenied {
		switch {
		case seen[target]:
		case firstRun:
			t.Logf("learn left %s denied; enforce mode, a later run, did not try it", target)
		default:
			t.Errorf("learn left %s denied, but enforce mode did not deny it", target)
		}
	}
}

// volatileNames are the parts of a name that change from run to run: a run of digits, a run
// of six or more hex digits (a temporary file's suffix, a PID).
var volatileNames = regexp.MustCompile(`[0-9a-fA-F]{6,}|[0-9]+`)

// volatileKey is a path or host name with what changes from run to run blanked: a temporary
// file learn left denied in one run is denied under another name in the next.
func volatileKey(p string) string { return volatileNames.ReplaceAllString(p, "#") }

// notAllowed is the events of a run that are not allowed: would-deny in audit mode, denied in
// enforce mode.
func notAllowed(evs []events.Event) []events.Event {
	return slices.DeleteFunc(slices.Clone(evs), func(e events.Event) bool { return e.Verdict == events.Allowed })
}

// refusalTarget is what learn names when it leaves an event's access denied: the path of a
// file or program, the name of a host.
func refusalTarget(e events.Event) string {
	if e.Path != "" {
		return e.Path
	}
	return e.Name
}
