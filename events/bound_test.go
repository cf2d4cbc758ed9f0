package events

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestBounded(t *testing.T) {
	short := Event{Kind: KindFile, Path: "/etc/x", Chain: []string{"a (pid 1)"}}
	if got := short.Bounded(); got.Path != short.Path || len(got.Chain) != 1 {
		t.Errorf("an event within the limits changed: %+v", got)
	}
	long := Event{Kind: KindFile, Path: "/" + strings.Repeat("é", 3000), Name: strings.Repeat("a", 1000),
		Process: strings.Repeat("\xff", 5000), Chain: make([]string, 50)}
	got := long.Bounded()
	if len(got.Path) > MaxPathLen || !utf8.ValidString(got.Path) || !strings.HasSuffix(got.Path, Truncated) {
		t.Errorf("path: %d bytes, valid UTF-8 %v", len(got.Path), utf8.ValidString(got.Path))
	}
	if len(got.Name) > MaxNameLen || len(got.Process) > MaxProcessLen || len(got.Chain) != MaxChain {
		t.Errorf("name %d bytes, process %d, chain %d entries", len(got.Name), len(got.Process), len(got.Chain))
	}
}

// A flood of unique targets keeps the summary's memory bounded and its total exact.
func TestLogBounded(t *testing.T) {
	l := NewLog(nil)
	const n = 5 * maxSummaryTargets
	for i := range n {
		l.Record(Event{Kind: KindFile, Op: "create", Path: fmt.Sprintf("/etc/x%d", i), Verdict: Denied})
	}
	for range 3 {
		l.Record(Event{Kind: KindFile, Op: "create", Path: "/etc/x0", Verdict: Denied})
	}
	if len(l.groups[Denied]) > maxSummaryTargets {
		t.Errorf("%d targets counted one by one, want at most %d", len(l.groups[Denied]), maxSummaryTargets)
	}
	if d, _ := l.Counts(); d != n+3 {
		t.Errorf("Counts() = %d denied, want %d", d, n+3)
	}
	s := l.Summary()
	if len(s) != 1 || !strings.HasPrefix(s[0], fmt.Sprintf("%d accesses denied: /etc/x0 (4), ", n+3)) || !strings.Contains(s[0], "and at least") {
		t.Errorf("Summary() = %q", s)
	}
}

func TestLogLimit(t *testing.T) {
	var buf strings.Builder
	l := NewLimitedLog(&buf, 1000)
	for i := range 100 {
		l.Record(Event{Kind: KindFile, Path: fmt.Sprintf("/etc/x%d", i), Verdict: Denied})
	}
	if buf.Len() > 1000+200 || l.Unwritten() == 0 || l.Unwritten()+strings.Count(buf.String(), "\n") != 100 {
		t.Errorf("wrote %d bytes (%d lines), %d unwritten", buf.Len(), strings.Count(buf.String(), "\n"), l.Unwritten())
	}
}
