package cli

import (
	"bufio"
	"strings"
	"testing"
	"time"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/profiles/learn"
)

func TestReviewRules(t *testing.T) {
	rules := []learn.Rule{
		{Section: learn.SectionRead, Entry: "~/a", Count: 3, Keeps: []learn.Rule{{Section: learn.SectionDeny, Entry: "~/a/key"}}},
		{Section: learn.SectionWrite, Entry: "~/b", Count: 1},
		{Section: learn.SectionNetworkAllow, Entry: "evil.test", Count: 2},
		{Section: learn.SectionExec, Entry: "~/tools/x", Count: 1},
	}
	for _, tc := range []struct {
		input string
		want  []string // entries kept
		err   bool
	}{
		{"a\na\nyes\na\na\n", []string{"~/a", "~/b", "evil.test", "~/tools/x"}, false},
		// Writing outside the workspace takes a second "yes".
		{"a\na\ny\na\na\n", []string{"~/a", "evil.test", "~/tools/x"}, false},
		{"a\ne\n/data/x\nno\na\na\n", []string{"~/a", "evil.test", "~/tools/x"}, false},
		{"s\ne\n$WORKSPACE/x\ns\ns\n", []string{"$WORKSPACE/x"}, false},
		{"a\ns\nwhat?\nn\ny\n", []string{"~/a", "~/tools/x"}, false},
		{"e\n~/a/only\ns\nq\n", []string{"~/a/only"}, false},
		{"a\n", nil, true}, // input ends before every rule had an answer
	} {
		var out strings.Builder
		got, err := reviewRules(bufio.NewReader(strings.NewReader(tc.input)), &out, rules)
		if (err != nil) != tc.err {
			t.Errorf("%q: err = %v, want error %v", tc.input, err, tc.err)
			continue
		}
		var entries []string
		for _, r := range got {
			entries = append(entries, r.Entry)
			if strings.HasPrefix(r.Entry, "~/a") && len(r.Keeps) != 1 {
				t.Errorf("%q: %s lost its kept rule: %v", tc.input, r.Entry, r.Keeps)
			}
		}
		if strings.Join(entries, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%q: kept %q, want %q\n%s", tc.input, entries, tc.want, out.String())
		}
	}
}

func TestDescribeRule(t *testing.T) {
	r := learn.Rule{Section: learn.SectionWrite, Entry: "~/.claude", Count: 4, Covers: []string{"/home/u/.claude"},
		Keeps: []learn.Rule{
			{Section: learn.SectionDeny, Entry: "~/.claude/.credentials.json", Why: "a secret, builtin/aider.yaml:41:7"},
			{Section: learn.SectionProtect, Entry: "~/.claude/settings.json", Why: "it starts programs outside the sandbox, builtin/claude.yaml:54:7"},
		}}
	var out strings.Builder
	describeRule(&out, 0, 2, r)
	want := `
[1/2] filesystem.write: ~/.claude   (4 events: /home/u/.claude)
      outside the workspace: accepting it asks again
      keeps denied: ~/.claude/.credentials.json (a secret, builtin/aider.yaml:41:7)
      keeps protected: ~/.claude/settings.json (it starts programs outside the sandbox, builtin/claude.yaml:54:7)
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestDescribeRuleEscapes(t *testing.T) {
	r := learn.Rule{Section: learn.SectionWrite, Entry: "$WORKSPACE/a\x1b]0;t\x07", Count: 2,
		Keeps:   []learn.Rule{{Section: learn.SectionDeny, Entry: "~/a\x1b[2J", Why: "a secret, x\u202e.yaml"}},
		Covers:  []string{"/w/a\nwrite: - ~", "/w/\u202eb"},
		Example: events.Event{Kind: events.KindFile, Op: "create", Path: "/w/x\r\x1b[K", Process: "sh -c \x1b]52;c;YQ==\x07 (pid 3)"}}
	var out strings.Builder
	describeRule(&out, 0, 1, r)
	out.WriteString(escapeLines("+    - /w/\x9b\u2066x\n"))
	for _, bad := range []string{"\x1b", "\r", "\x07", "\u202e", "\x9b", "\u2066", "\nwrite"} {
		if strings.Contains(out.String(), bad) {
			t.Errorf("output holds %q:\n%s", bad, out.String())
		}
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"14d":                  now.Add(-14 * 24 * time.Hour),
		"2w":                   now.Add(-14 * 24 * time.Hour),
		"36h":                  now.Add(-36 * time.Hour),
		"1.5d":                 now.Add(-36 * time.Hour),
		"2026-11-01T10:00:00Z": time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC),
	} {
		if got, err := parseSince(in, now); err != nil || !got.Equal(want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if got, err := parseSince("2026-11-01", now); err != nil || got.Day() != 1 || got.Hour() != 0 {
		t.Errorf("parseSince(a date) = %v, %v", got, err)
	}
	for _, bad := range []string{"", "yesterday", "-3d", "-1h", "xd"} {
		if _, err := parseSince(bad, now); err == nil {
			t.Errorf("parseSince(%q): no error", bad)
		}
	}
}
