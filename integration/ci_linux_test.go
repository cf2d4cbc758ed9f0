package integration

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// ciReport is the part of a --report file the tests read.
type ciReport struct {
	Exit struct {
		Code     int `json:"code"`
		Agentrun int `json:"agentrun_status"`
	} `json:"exit"`
	Timeout *struct {
		Hit    bool `json:"hit"`
		Killed bool `json:"killed"`
	} `json:"timeout"`
	Denials []struct {
		Verdict string   `json:"verdict"`
		Kind    string   `json:"kind"`
		Op      string   `json:"operation"`
		Target  string   `json:"target"`
		Count   int      `json:"count"`
		Chain   []string `json:"process_chain"`
	} `json:"denials"`
}

// validReport checks a report against docs/report.schema.json and decodes it.
func validReport(t *testing.T, data []byte) ciReport {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile("../docs/report.schema.json")
	if err != nil {
		t.Fatalf("compiling the report schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the report is not JSON: %v\n%s", err, data)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("the report does not validate against docs/report.schema.json: %v\n%s", err, data)
	}
	var r ciReport
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// stdoutReport is the report --report - wrote to stdout after the agent's output, validated.
func stdoutReport(t *testing.T, res result) ciReport {
	t.Helper()
	i := strings.Index(res.stdout, "{\n")
	if i < 0 {
		t.Fatalf("no report on stdout: %s", res)
	}
	return validReport(t, []byte(res.stdout[i:]))
}

// TestCITimeoutKillsWhatIgnoresSIGTERM: at the deadline a process tree that ignores SIGTERM
// is killed after the grace period; agentrun exits 124, says SIGKILL was needed, reports it,
// and leaves no process or cgroup behind.
func TestCITimeoutKillsWhatIgnoresSIGTERM(t *testing.T) {
	asRootAndUser(t, func(t *testing.T, r *runner) {
		report := filepath.Join(r.home, "report.json")
		res := r.run(t, "--profile", r.profile, "--network", "none", "--timeout", "2s", "--timeout-grace", "1s", "--report", report,
			"--", "sh", "-c", `trap "" TERM; sleep 60.5 & sleep 60.5`)
		if res.code != 124 || !strings.Contains(res.stderr, "deadline (--timeout 2s) was hit") || !strings.Contains(res.stderr, "killed with SIGKILL") {
			t.Errorf("want exit 124 and the deadline and SIGKILL said: %s", res)
		}
		if processRunning("sleep 60.5") {
			t.Error("a process of the sandbox outlived the run")
		}
		if l := leftovers(t); len(l) > 0 {
			t.Errorf("left behind: %v", l)
		}
		data, err := os.ReadFile(report)
		if err != nil {
			t.Fatal(err)
		}
		rep := validReport(t, data)
		if rep.Timeout == nil || !rep.Timeout.Hit || !rep.Timeout.Killed || rep.Exit.Agentrun != 124 {
			t.Errorf("the report says timeout %+v, agentrun status %d; want hit, killed, 124", rep.Timeout, rep.Exit.Agentrun)
		}
		if fi, err := os.Stat(report); err == nil && int(fi.Sys().(*syscall.Stat_t).Uid) != r.uid {
			t.Errorf("the report belongs to uid %d, not to the user who ran agentrun (%d)", fi.Sys().(*syscall.Stat_t).Uid, r.uid)
		}
	})
}

// TestCITimeoutSIGTERMEnds: a process tree that ends on SIGTERM ends at the deadline, every
// process of it (the background one too, in the agent's process group or not), without
// SIGKILL; agentrun still exits 124. With stdin not a terminal the agent gets none.
func TestCITimeoutSIGTERMEnds(t *testing.T) {
	asRootAndUser(t, func(t *testing.T, r *runner) {
		// A grace period far longer than the test: were SIGTERM not delivered, SIGKILL would
		// come only after it, and the report would say so.
		res := r.run(t, "--profile", r.profile, "--network", "none", "--timeout", "2s", "--timeout-grace", "90s", "--report", "-",
			"--", "sh", "-c", `[ -t 0 ] || echo stdin-not-a-terminal; `+termTree("60.75"))
		if res.code != 124 || !strings.Contains(res.stderr, "no SIGKILL was needed") || !strings.Contains(res.stdout, "child-got-term") || !strings.Contains(res.stdout, "agent-got-term") {
			t.Errorf("want exit 124, the traps of the agent and of its child in a session of its own run, and no SIGKILL: %s", res)
		}
		if !strings.Contains(res.stdout, "stdin-not-a-terminal") {
			t.Errorf("the agent got a terminal though agentrun's stdin is none: %s", res)
		}
		if processRunning("sleep 60.75") {
			t.Error("a process of the sandbox outlived the run")
		}
		// --report - writes the report to stdout after the agent's output.
		rep := stdoutReport(t, res)
		if rep.Timeout == nil || !rep.Timeout.Hit || rep.Timeout.Killed || rep.Exit.Code != 3 {
			t.Errorf("the report says timeout %+v, exit %d; want hit, not killed, the agent's 3", rep.Timeout, rep.Exit.Code)
		}
	})
}

// termTree is a script whose agent and whose child in a session of its own (out of the agent's
// process group) each say when SIGTERM reaches them and then end, the agent once the child has
// (with exit status 3); were SIGTERM not to reach the child, the agent would wait for it until
// SIGKILL. Both run "sleep SECS" meanwhile.
func termTree(secs string) string {
	return `setsid sh -c 'trap "echo child-got-term; exit 0" TERM; sleep ` + secs + ` & wait' & c=$!; ` +
		`trap 'wait $c; echo agent-got-term; exit 3' TERM; sleep ` + secs + ` & wait`
}

// weirdName is a file name with what GitHub's workflow commands must escape.
const weirdName = "/etc/we%ird,na:me\nx"

// TestCIReportGitHubAndLearn: a run with denials, in a GitHub Actions environment, writes a
// report that validates and holds them, prints them as ::warning workflow commands with
// their values escaped, appends a table to the step summary, and learn --from the report
// proposes the rule the run lacked.
func TestCIReportGitHubAndLearn(t *testing.T) {
	asRootAndUser(t, func(t *testing.T, r *runner) {
		profile := filepath.Join(r.home, "cilearn.yaml")
		writeOwned(t, r, profile, "name: cilearn\nextends: [base]\n")
		summary := filepath.Join(r.home, "step-summary.md")
		writeOwned(t, r, summary, "# earlier step\n")
		report := filepath.Join(r.home, "report.json")
		r.env = []string{"GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY=" + summary}
		defer func() { r.env = nil }()
		args := append([]string{"--profile", profile, "--network", "none", "--report", report}, r.denials()...)
		res := r.run(t, append(args, "--", "sh", "-c", `cat ~/notes.txt; echo x > "$0"; true`, weirdName)...)
		if res.code != 0 {
			t.Fatalf("the run: %s", res)
		}
		data, err := os.ReadFile(report)
		if err != nil {
			t.Fatal(err)
		}
		rep := validReport(t, data)
		notes := filepath.Join(r.home, "notes.txt")
		var sawNotes, sawWeird bool
		for _, d := range rep.Denials {
			sawNotes = sawNotes || (d.Target == notes && d.Op == "read" && d.Verdict == "denied" && len(d.Chain) > 0 && strings.HasPrefix(d.Chain[0], "cat "))
			sawWeird = sawWeird || (d.Target == weirdName && d.Kind == "file")
		}
		if !sawNotes || !sawWeird {
			t.Errorf("the report's denials lack the read of %s (by cat) or the write of %q: %+v", notes, weirdName, rep.Denials)
		}
		want := "::warning file=/etc/we%25ird%2Cna%3Ame%0Ax,title=agentrun denied::denied file "
		if !strings.Contains(res.stderr, want) || !strings.Contains(res.stderr, "::warning file="+notes+",title=agentrun denied::denied file read ") {
			t.Errorf("want workflow commands with escaped values (%q) on stderr: %s", want, res)
		}
		for _, line := range strings.Split(res.stderr, "\n") {
			if strings.HasPrefix(line, "x,title=") || strings.HasPrefix(line, "x (×") {
				t.Errorf("a newline of the agent's file name split a workflow command: %q", line)
			}
		}
		sum, err := os.ReadFile(summary)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(sum), "# earlier step\n") || !strings.Contains(string(sum), "| verdict | kind | operation | target | count |") ||
			!strings.Contains(string(sum), "| denied | file | read | `"+notes+"` | 1 |") {
			t.Errorf("the step summary lacks the table of denials:\n%s", sum)
		}
		learned := r.run(t, "learn", profile, "--from", report, "--dry-run")
		if learned.code != 0 || !strings.Contains(learned.stdout, "+    - ~/notes.txt") || !strings.Contains(learned.stdout, "left denied: /etc/we%ird,na:me\\nx") {
			t.Errorf("learn --from the report does not propose ~/notes.txt (and leave /etc denied): %s", learned)
		}
		if got := r.run(t, "report", "--from", report); got.code != 1 || !strings.Contains(got.stdout, notes) {
			t.Errorf("report --from: want exit 1 and the denial listed: %s", got)
		}
	})
}

// TestCIUsageErrors: a bad duration is a usage error that names the flag.
func TestCIUsageErrors(t *testing.T) {
	r := newRunner(t, false)
	for _, args := range [][]string{
		{"--timeout", "soon"},
		{"--timeout", "0s"},
		{"--timeout", "1m", "--timeout-grace", "-1s"},
	} {
		res := r.run(t, append(args, "--", "true")...)
		flag := args[len(args)-2]
		if res.code != 125 || !strings.Contains(res.stderr, flag+" ") || !strings.Contains(res.stderr, "hint: write a duration") {
			t.Errorf("%v: want exit 125 naming %s with a hint: %s", args, flag, res)
		}
	}
}

// TestCITimeoutLandlockSeccompTier: the deadline in the tier without namespaces, where there
// is no PID namespace to end: SIGTERM reaches every descendant (a setsid one too), and a tree
// that ignores it is killed after the grace period; nothing outlives the run.
func TestCITimeoutLandlockSeccompTier(t *testing.T) {
	r := newRunner(t, true)
	r.jail = true
	for _, tc := range []struct {
		name, script, grace, said string
		killed                    bool
	}{
		{name: "ends on SIGTERM", script: termTree("60.875"), grace: "90s", said: "child-got-term"},
		{name: "ignores SIGTERM", script: `trap "" TERM; setsid sleep 60.875 & sleep 60.875`, grace: "1s", said: "killed with SIGKILL", killed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := r.sh(t, tc.script, "--allow-degraded", "--allow-unprotected", "--timeout", "2s", "--timeout-grace", tc.grace, "--report", "-")
			if res.code != 124 || !strings.Contains(res.stderr+res.stdout, tc.said) || tc.killed == strings.Contains(res.stderr, "no SIGKILL was needed") {
				t.Errorf("want exit 124 and %q: %s", tc.said, res)
			}
			if processRunning("sleep 60.875") {
				t.Error("a process of the sandbox outlived the run")
			}
			rep := stdoutReport(t, res)
			if rep.Timeout == nil || !rep.Timeout.Hit || rep.Timeout.Killed != tc.killed || !strings.Contains(res.stdout, `"tier": "landlock+seccomp"`) {
				t.Errorf("the report says timeout %+v; want hit, killed %v, in the Landlock + seccomp tier", rep.Timeout, tc.killed)
			}
		})
	}
}

// TestCIReportPathCheckedFirst: a --report path that could not be written when the run ends
// stops the launch before the agent runs (exit 125, naming the flag), instead of losing the
// report after the work is done.
func TestCIReportPathCheckedFirst(t *testing.T) {
	asRootAndUser(t, func(t *testing.T, r *runner) {
		res := r.run(t, "--profile", r.profile, "--network", "none", "--report", filepath.Join(r.home, "no-such-dir", "report.json"),
			"--", "sh", "-c", "echo RAN")
		if res.code != 125 || strings.Contains(res.stdout, "RAN") || !strings.Contains(res.stderr, "--report") {
			t.Errorf("want exit 125, the agent not run and --report named: %s", res)
		}
		res = r.run(t, "--profile", r.profile, "--network", "none", "--report", filepath.Join(r.home, "report.json"),
			"--", "sh", "-c", "echo RAN")
		if res.code != 0 || !strings.Contains(res.stdout, "RAN") {
			t.Errorf("want the agent run with a report in an existing directory: %s", res)
		}
	})
}
