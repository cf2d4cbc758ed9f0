package darwin

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/profiles"
)

const sampleTag = "agentrun-0123456789abcdef"

func samplePolicy() *profiles.Policy {
	r := func(path, pattern string) profiles.PathRule { return profiles.PathRule{Path: path, Pattern: pattern} }
	return &profiles.Policy{
		Name: "test",
		Filesystem: profiles.FilesystemPolicy{
			Read:    []profiles.PathRule{r("/usr", "/usr"), r("/etc", "/etc")},
			Write:   []profiles.PathRule{r("/Users/a/project", "$WORKSPACE")},
			Deny:    []profiles.PathRule{r("/Users/a/.ssh", "~/.ssh"), r("/etc/master.passwd", "/etc/master.passwd")},
			Protect: []profiles.PathRule{r("/Users/a/project/.git/config", "$WORKSPACE/.git/config")},
		},
		Exec: profiles.ExecPolicy{Allow: []profiles.PathRule{r("/usr/bin/**", "/usr/bin/**")}},
	}
}

// TestFollowSample reads log lines written from the format `log stream --style ndjson`
// prints (see violations.go): each of the run's kernel reports becomes the event of its
// kind; the header, another run's tag, a forged report from a user process, an operation
// with no event kind and the trailer are not events.
func TestFollowSample(t *testing.T) {
	f, err := os.Open("testdata/logstream.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec := &events.Memory{}
	ready := make(chan struct{})
	j := judge{pol: samplePolicy(), ruleOf: func(s string) string {
		if s == "protect-0" {
			return "filesystem.protect $WORKSPACE/.git/config"
		}
		return ""
	}}
	skipped := follow(f, sampleTag, j, rec, ready)
	select {
	case <-ready:
	default:
		t.Error("ready was not closed")
	}
	if skipped != 6 { // header, mach-lookup, forged, other tag, not json, trailer
		t.Errorf("skipped %d lines, want 6", skipped)
	}
	type short struct {
		kind          events.Kind
		op, target    string
		verdict       events.Verdict
		rule, process string
	}
	want := []short{
		{events.KindFile, "read", "/Users/a/.ssh/id_rsa", events.Denied, "filesystem.deny ~/.ssh", "cat (pid 41491)"},
		{events.KindFile, "create", "/Users/a/.zshrc.new", events.Denied, "", "zsh (pid 41492)"},
	}
	for range 13 {
		want = append(want, short{events.KindFile, "read", "/private/etc/master.passwd", events.Denied, "filesystem.deny /etc/master.passwd", "node (pid 41493)"})
	}
	want = append(want,
		short{events.KindFlow, "connect", "ip 93.184.216.34:443", events.Denied, "network", "curl (pid 41494)"},
		short{events.KindSocket, "connect", "/private/var/run/docker.sock", events.Denied, "network", "Cursor Helper (Plugin) (pid 41495)"},
		short{events.KindExec, "exec", "/Users/a/Downloads/tool", events.Denied, "", "sh (pid 41496)"},
		short{events.KindFile, "read", "/Users/a/.aws/credentials", events.WouldDeny, "", "python3.12 (pid 41497)"},
		short{events.KindFile, "delete", "/Users/a/project/.git", events.Denied, "filesystem.protect $WORKSPACE/.git/config", "git (pid 41501)"},
	)
	got := rec.Events()
	if len(got) != len(want) {
		for _, e := range got {
			t.Logf("%+v", e)
		}
		t.Fatalf("%d events, want %d", len(got), len(want))
	}
	for i, e := range got {
		g := short{e.Kind, e.Op, e.Target(), e.Verdict, e.Rule, e.Process}
		if g != want[i] {
			t.Errorf("event %d:\n got  %+v\n want %+v", i, g, want[i])
		}
		if e.Reason == "" {
			t.Errorf("event %d has no reason", i)
		}
	}
	if tm := got[0].Time; !tm.Equal(time.Date(2024, 5, 1, 8, 21, 33, 123456000, time.UTC)) {
		t.Errorf("time %v", tm)
	}
}

func TestParseLineRefuses(t *testing.T) {
	for _, line := range []string{
		``,
		`{}`,
		`{"processID":0,"eventMessage":"Sandbox: cat(1) deny(1) file-read-data /x"}`,                                           // no tag
		`{"eventMessage":"Sandbox: cat(1) deny(1) file-read-data /x\n` + sampleTag + `"}`,                                      // no process
		`{"processID":0,"eventMessage":"cat(1) deny(1) file-read-data /x\n` + sampleTag + `"}`,                                 // not a report
		`{"processID":0,"eventMessage":"0 duplicate reports for Sandbox: cat(1) deny(1) file-read-data /x ` + sampleTag + `"}`, // no duplicates
		`{"processID":0,"eventMessage":"Sandbox: cat(1) grant(1) file-read-data /x ` + sampleTag + `"}`,
	} {
		if v, ok := parseLine([]byte(line), sampleTag); ok {
			t.Errorf("parseLine(%q) = %+v, want nothing", line, v)
		}
	}
	// The tag on the report's own line, a path with spaces.
	v, ok := parseLine([]byte(`{"processID":0,"eventMessage":"Sandbox: cat(7) deny(1) file-read-data /Users/a/My Keys/k `+sampleTag+`"}`), sampleTag)
	if !ok || v.Target != "/Users/a/My Keys/k" || v.PID != 7 {
		t.Errorf("got %+v, %v", v, ok)
	}
}

func TestLogPredicate(t *testing.T) {
	p, err := logPredicate(sampleTag)
	if err != nil || p != `processID == 0 AND eventMessage CONTAINS "agentrun-0123456789abcdef"` {
		t.Errorf("%q, %v", p, err)
	}
	for _, bad := range []string{"", `a" OR 1 == 1 OR "`, "a b"} {
		if _, err := logPredicate(bad); err == nil || !strings.Contains(err.Error(), "tag") {
			t.Errorf("logPredicate(%q): %v", bad, err)
		}
	}
}
