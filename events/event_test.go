package events

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

func TestLogWritesJSONLinesAndSummarises(t *testing.T) {
	var buf bytes.Buffer
	l := NewLog(&buf)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.Record(Event{Kind: KindFlow, Protocol: "tcp", Name: "evil.test", Address: "203.0.113.9", Port: 443, Verdict: Denied})
		}()
	}
	wg.Wait()
	l.Record(Event{Kind: KindDNS, Name: "secret.attacker.test", Protocol: "TXT", Verdict: Denied, Reason: "not an allowed name"})
	l.Record(Event{Kind: KindFlow, Protocol: "tcp", Name: "api.example.com", Address: "198.18.0.10", Port: 443, Verdict: Allowed, Bytes: 1234})
	l.Record(Event{Kind: KindFlow, Protocol: "tcp", Address: "2001:db8::1", Port: 22, Verdict: Denied})
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	lines := 0
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %d is not an event: %v: %s", lines+1, err, sc.Bytes())
		}
		if e.Time.IsZero() || e.Verdict == "" || e.Kind == "" {
			t.Errorf("incomplete event: %s", sc.Bytes())
		}
		lines++
	}
	if lines != 23 {
		t.Errorf("%d lines, want 23", lines)
	}
	want := "22 accesses denied: tcp evil.test (203.0.113.9):443 (20), dns secret.attacker.test (TXT), tcp [2001:db8::1]:22"
	if got := l.Summary(); len(got) != 1 || got[0] != want {
		t.Errorf("summary:\n got %q\nwant %q", got, want)
	}
	l.Record(Event{Kind: KindFile, Op: "read", Path: "/etc/shadow", Verdict: WouldDeny})
	if got := l.Summary(); len(got) != 2 || got[1] != "1 access would be denied in enforce mode: /etc/shadow" {
		t.Errorf("summary with a would-be denial: %q", got)
	}
	if d, w := l.Counts(); d != 22 || w != 1 {
		t.Errorf("counts = %d, %d; want 22, 1", d, w)
	}
	if got := NewLog(nil).Summary(); len(got) != 0 {
		t.Errorf("empty summary = %q", got)
	}
}

func TestSummaryEscapesTargetsAndJSONStaysExact(t *testing.T) {
	hostile := []string{
		"/w/\x1b]0;pwned\x07",
		"/w/\x1b]52;c;Y3VybA==\x07",
		"/w/x\r\x1b[K",
		"/w/x\nagentrun: 0 accesses denied",
		"/w/\x9b2J",
		"/w/evil\u202etxt.sh",
	}
	var buf bytes.Buffer
	l := NewLog(&buf)
	for _, p := range hostile {
		l.Record(Event{Kind: KindFile, Op: "write", Path: p, Verdict: Denied})
	}
	l.Record(Event{Kind: KindDNS, Name: "a\x1b[31m.test", Protocol: "A", Verdict: WouldDeny})
	for _, s := range l.Summary() {
		for _, bad := range []string{"\x1b", "\r", "\n", "\x07", "\x9b", "\u202e"} {
			if strings.Contains(s, bad) {
				t.Errorf("summary line holds %q: %q", bad, s)
			}
		}
	}
	dec := json.NewDecoder(&buf)
	for _, want := range hostile {
		var e Event
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		// JSON strings are UTF-8: encoding/json writes an invalid byte as U+FFFD.
		if want = strings.ToValidUTF8(want, "\uFFFD"); e.Path != want {
			t.Errorf("JSON path = %q, want the raw %q", e.Path, want)
		}
	}
}

// Groups aggregate by operation, target and rule, keep the first event's chain, and count
// every verdict.
func TestLogGroups(t *testing.T) {
	l := NewLog(nil)
	first := Event{Kind: KindFile, Op: "read", Path: "/etc/shadow", Verdict: Denied, Rule: "deny /etc/shadow", Chain: []string{"cat (pid 3)", "sh (pid 2)"}}
	l.Record(first)
	l.Record(Event{Kind: KindFile, Op: "read", Path: "/etc/shadow", Verdict: Denied, Rule: "deny /etc/shadow", Chain: []string{"head (pid 4)"}})
	l.Record(Event{Kind: KindFile, Op: "write", Path: "/etc/shadow", Verdict: Denied, Rule: "deny /etc/shadow"})
	l.Record(Event{Kind: KindFlow, Protocol: "tcp", Name: "evil.test", Address: "203.0.113.9", Port: 443, Verdict: Denied})
	l.Record(Event{Kind: KindFlow, Protocol: "tcp", Name: "evil.test", Address: "203.0.113.10", Port: 443, Verdict: Denied})
	l.Record(Event{Kind: KindDNS, Protocol: "A", Name: "ok.test", Verdict: Allowed})
	g := l.Groups()
	if len(g) != 3 {
		t.Fatalf("Groups() = %+v, want 3 groups", g)
	}
	if g[0].Count != 2 || g[1].Count != 2 || g[2].Count != 1 {
		t.Errorf("counts %d %d %d, want 2 2 1", g[0].Count, g[1].Count, g[2].Count)
	}
	for _, x := range g {
		if x.Target == "/etc/shadow" && x.Op == "read" && x.First.Chain[0] != "cat (pid 3)" {
			t.Errorf("first chain %q, want the first event's", x.First.Chain)
		}
		if x.Kind == KindFlow && x.Target != "evil.test:443" {
			t.Errorf("flow target %q, want evil.test:443", x.Target)
		}
	}
	if c := l.VerdictCounts(); c[Denied] != 5 || c[Allowed] != 1 {
		t.Errorf("VerdictCounts() = %v", c)
	}
}
