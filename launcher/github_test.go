package launcher

import (
	"strings"
	"testing"

	"github.com/agentrun/agentrun/events"
)

func TestGitHubEscaping(t *testing.T) {
	for _, tc := range []struct {
		name, in, data, prop string
	}{
		{name: "plain", in: "/etc/passwd", data: "/etc/passwd", prop: "/etc/passwd"},
		{name: "percent first", in: "100%0A", data: "100%250A", prop: "100%250A"},
		{name: "newlines", in: "a\r\nb", data: "a%0D%0Ab", prop: "a%0D%0Ab"},
		{name: "colon and comma", in: "a::b,c", data: "a::b,c", prop: "a%3A%3Ab%2Cc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ghData(tc.in); got != tc.data {
				t.Errorf("ghData(%q) = %q, want %q", tc.in, got, tc.data)
			}
			if got := ghProperty(tc.in); got != tc.prop {
				t.Errorf("ghProperty(%q) = %q, want %q", tc.in, got, tc.prop)
			}
		})
	}
}

// Every line of the annotations is one workflow command, whatever the agent named; a path
// with an escape character gets no file property, and the count is capped.
func TestGitHubAnnotations(t *testing.T) {
	r := &Report{Timeout: &ReportTimout{Seconds: 60, GraceSeconds: 10, Hit: true, Killed: true}}
	r.Denials = append(r.Denials,
		ReportGroup{Verdict: events.Denied, Kind: events.KindFile, Op: "read", Target: "/w/a\nb,c:d%", Count: 2, Chain: []string{"cat\x1b[31m (pid 3)"}},
		ReportGroup{Verdict: events.Denied, Kind: events.KindFile, Op: "read", Target: "/w/\x1b]0;x", Count: 1},
		ReportGroup{Verdict: events.WouldDeny, Kind: events.KindDNS, Op: "A", Target: "evil.test", Count: 1})
	for range maxAnnotations {
		r.Denials = append(r.Denials, ReportGroup{Verdict: events.Denied, Kind: events.KindExec, Op: "exec", Target: "/bin/x", Count: 1})
	}
	var b strings.Builder
	githubAnnotations(&b, r)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 1+maxAnnotations+1 {
		t.Errorf("%d lines, want the deadline, %d denials and a line for the rest:\n%s", len(lines), maxAnnotations, b.String())
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "::error ") && !strings.HasPrefix(l, "::warning ") || strings.ContainsAny(l, "\x1b\r") {
			t.Errorf("not one clean workflow command: %q", l)
		}
	}
	if !strings.HasPrefix(lines[0], "::error title=agentrun::") || !strings.Contains(lines[0], "SIGKILL") {
		t.Errorf("the deadline: %q", lines[0])
	}
	if want := "::warning file=/w/a%0Ab%2Cc%3Ad%25,title=agentrun denied::denied file read /w/a\\nb,c:d%25 (×2); by cat\\x1b[31m (pid 3)"; lines[1] != want {
		t.Errorf("got  %q\nwant %q", lines[1], want)
	}
	if strings.Contains(lines[2], "file=") {
		t.Errorf("a path with an escape character as the file property: %q", lines[2])
	}
	if strings.Contains(lines[3], "file=") || !strings.Contains(lines[3], "would-deny dns A evil.test") {
		t.Errorf("a DNS denial: %q", lines[3])
	}
}

// The step summary's table cells cannot break the table or carry markup.
func TestStepSummary(t *testing.T) {
	r := &Report{Command: []string{"sh", "-c", "x|y"}, Mode: "enforce", Profile: ReportProfile{Name: "ci", Source: "builtin/ci.yaml"}}
	r.Denials = []ReportGroup{{Verdict: events.Denied, Kind: events.KindFile, Op: "read", Target: "/w/a|b`c\nd", Count: 1, Rule: "deny <b>x</b>", Chain: []string{"cat | tee (pid 2)"}}}
	s := stepSummary(r)
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "| denied") {
			if n := strings.Count(l, "|") - strings.Count(l, `\|`); n != 8 {
				t.Errorf("the row has %d cell separators, want 8: %q", n, l)
			}
			if strings.Contains(l, "<b>") {
				t.Errorf("markup in a cell: %q", l)
			}
		}
	}
	if !strings.Contains(s, "sh -c x&#124;y") {
		t.Errorf("the heading: %s", s)
	}
}
