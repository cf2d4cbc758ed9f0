// Package events is the record of what an agent did that a policy judged: network flows and
// DNS queries now, file and exec accesses with audit mode. One Event type for every layer, so
// one log, one store and one summary serve them all.
package events

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/agentrun/agentrun/display"
)

// Kind is what an event is about.
type Kind string

// The kinds of events.
const (
	KindDNS  Kind = "dns"  // a name looked up through the sandbox's resolver
	KindFlow Kind = "flow" // a network connection or datagram flow
	KindFile Kind = "file" // a file opened, created, removed (audit mode)
	KindExec Kind = "exec" // a program executed (audit mode)
	// KindSocket is a connect or send to a pathname unix socket outside the sandbox's own
	// directories (Path is the socket as the agent named it, resolved in its view).
	KindSocket Kind = "socket"
)

// Verdict is what the policy decided.
type Verdict string

// The verdicts.
const (
	Allowed Verdict = "allowed"
	Denied  Verdict = "denied"
	// WouldDeny is audit mode's verdict: allowed, but enforce mode would have denied it.
	WouldDeny Verdict = "would-deny"
)

// Event is one judged action.
type Event struct {
	Time    time.Time `json:"time"`
	RunID   string    `json:"run_id,omitempty"`
	Profile string    `json:"profile,omitempty"`
	Kind    Kind      `json:"kind"`
	Process string    `json:"process,omitempty"` // the process, when known: "curl (pid 12)"
	Exe     string    `json:"exe,omitempty"`     // the acting process's executable, when known
	// Chain is the acting process and its ancestors inside the sandbox, innermost first,
	// each as "command line (pid N)", so "perl run by pg_dump" is visible.
	Chain []string `json:"chain,omitempty"`
	// Op is what was done: for files read, write, create, delete, rename, mkdir, link; for
	// programs exec; for unix sockets connect or send.
	Op       string  `json:"op,omitempty"`
	Name     string  `json:"name,omitempty"`     // a host name (DNS, SNI, Host header)
	Path     string  `json:"path,omitempty"`     // a file or program (file and exec events)
	Address  string  `json:"address,omitempty"`  // an IP address
	Port     uint16  `json:"port,omitempty"`     //
	Protocol string  `json:"protocol,omitempty"` // tcp, udp, icmp; for DNS the query type
	Verdict  Verdict `json:"verdict"`
	Rule     string  `json:"rule,omitempty"`   // the rule that decided, with its file and line
	Reason   string  `json:"reason,omitempty"` // why, in words, for denials
	Bytes    int64   `json:"bytes,omitempty"`  // bytes relayed, for flows
}

// Target is what the event was aimed at, as a person would write it.
func (e Event) Target() string {
	switch {
	case e.Kind == KindDNS:
		return "dns " + e.Name + " (" + e.Protocol + ")"
	case e.Path != "":
		return e.Path
	}
	host := e.Address
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if e.Name != "" {
		host = e.Name + " (" + e.Address + ")"
	}
	if e.Port != 0 {
		return fmt.Sprintf("%s %s:%d", e.Protocol, host, e.Port)
	}
	return e.Protocol + " " + host
}

// Sink receives events. It is safe for concurrent use.
type Sink interface {
	Record(Event)
}

// Log writes events as JSON lines and keeps what a summary needs. A nil writer only
// counts. It is safe for concurrent use.
//
// What it keeps is bounded, whatever the agent does: the summary counts at most
// maxSummaryTargets targets per verdict one by one (later targets only add to the total), and
// the JSON lines stop after the writer's limit (see [NewLimitedLog]).
type Log struct {
	mu        sync.Mutex
	w         io.Writer
	enc       *json.Encoder
	err       error
	groups    map[Verdict]map[groupID]*Group // denied and would-deny, for the summary and the report
	others    map[Verdict]int                // events of those verdicts that were not counted in a group
	byVerdict map[Verdict]int                // every event, by verdict
	total     int
	limit     int64 // bytes of JSON lines the log writes at most; 0 for no limit
	written   int64
	unwritten int // events not written past the limit
}

// maxSummaryTargets is how many groups (targets, with their operation and rule) per verdict
// the log counts one by one: a flood of unique paths or names must not grow agentrun's
// memory without end.
const maxSummaryTargets = 1000

// NewLog writes JSON lines to w (which may be nil).
func NewLog(w io.Writer) *Log { return NewLimitedLog(w, 0) }

// NewLimitedLog writes JSON lines to w (which may be nil) until they reach limit bytes
// (0: no limit); the events after that are only counted (see [Log.Unwritten]).
func NewLimitedLog(w io.Writer, limit int64) *Log {
	l := &Log{w: w, groups: map[Verdict]map[groupID]*Group{Denied: {}, WouldDeny: {}}, others: map[Verdict]int{}, byVerdict: map[Verdict]int{}, limit: limit}
	if w != nil {
		l.enc = json.NewEncoder(countingWriter{w, &l.written})
	}
	return l
}

type countingWriter struct {
	w io.Writer
	n *int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	*c.n += int64(n)
	return n, err
}

// Record writes one event, with its strings bounded (see [Event.Bounded]).
func (l *Log) Record(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e = e.Bounded()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total++
	l.byVerdict[e.Verdict]++
	if c, ok := l.groups[e.Verdict]; ok {
		id := groupIDOf(e)
		switch g, seen := c[id]; {
		case seen:
			g.Count++
		case len(c) < maxSummaryTargets:
			c[id] = &Group{Verdict: e.Verdict, Kind: e.Kind, Op: id.op, Target: id.target, Rule: e.Rule, Count: 1, First: e}
		default:
			l.others[e.Verdict]++
		}
	}
	if l.enc == nil || l.err != nil {
		return
	}
	if l.limit > 0 && l.written >= l.limit {
		l.unwritten++
		return
	}
	l.err = l.enc.Encode(e)
}

// Unwritten is how many events were not written because the log had reached its limit.
func (l *Log) Unwritten() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.unwritten
}

// Err is the first error writing the log, if any.
func (l *Log) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Counts returns how many events were denied and how many would have been (audit mode).
func (l *Log) Counts() (denied, wouldDeny int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, g := range l.groups[Denied] {
		denied += g.Count
	}
	for _, g := range l.groups[WouldDeny] {
		wouldDeny += g.Count
	}
	return denied + l.others[Denied], wouldDeny + l.others[WouldDeny]
}

// Summary is a line for stderr at the end of a run for denials and one for would-be denials,
// such as "3 accesses denied: tcp evil.test (203.0.113.9):443 (2), dns secret.attacker.test (A)";
// none when nothing was denied. Targets are escaped with display.Escape: they are the agent's.
func (l *Log) Summary() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	if s := summarise(byTarget(l.groups[Denied]), l.others[Denied], "denied"); s != "" {
		out = append(out, s)
	}
	if s := summarise(byTarget(l.groups[WouldDeny]), l.others[WouldDeny], "would be denied in enforce mode"); s != "" {
		out = append(out, s)
	}
	return out
}

// byTarget counts groups by the target as people read it (Event.Target).
func byTarget(groups map[groupID]*Group) map[string]int {
	out := make(map[string]int, len(groups))
	for id, g := range groups {
		out[id.shown] += g.Count
	}
	return out
}

// summarise is the summary line for counts, plus others: events whose targets were past
// maxSummaryTargets.
func summarise(counts map[string]int, others int, what string) string {
	if len(counts) == 0 {
		return ""
	}
	targets := make([]string, 0, len(counts))
	n := others
	for t, c := range counts {
		targets = append(targets, t)
		n += c
	}
	sort.Slice(targets, func(i, j int) bool {
		if counts[targets[i]] != counts[targets[j]] {
			return counts[targets[i]] > counts[targets[j]]
		}
		return targets[i] < targets[j]
	})
	const shown = 5
	var parts []string
	for i, t := range targets {
		if i == shown {
			more := fmt.Sprintf("and %d more", len(targets)-shown)
			if others > 0 {
				more = fmt.Sprintf("and at least %d more", len(targets)-shown+1)
			}
			parts = append(parts, more)
			break
		}
		c := counts[t]
		t = display.Escape(t) // the target is the agent's: a path, a name
		if c > 1 {
			t = fmt.Sprintf("%s (%d)", t, c)
		}
		parts = append(parts, t)
	}
	if len(targets) <= shown && others > 0 {
		parts = append(parts, "and more")
	}
	noun := "accesses"
	if n == 1 {
		noun = "access"
	}
	return fmt.Sprintf("%d %s %s: %s", n, noun, what, strings.Join(parts, ", "))
}

// Tee records each event in every one of its sinks.
type Tee []Sink

// Record passes e on.
func (t Tee) Record(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now() // one time for all the copies
	}
	for _, s := range t {
		s.Record(e)
	}
}

// Memory keeps events in memory; for tests, and for callers that inspect a run's events.
// It is safe for concurrent use.
type Memory struct {
	mu     sync.Mutex
	events []Event
}

// Record keeps one event.
func (m *Memory) Record(e Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, e)
}

// Events returns a copy of the events kept so far.
func (m *Memory) Events() []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Event(nil), m.events...)
}

// Stamp returns a sink that sets each event's RunID and Profile to those of the run before
// passing it to s. A run's sink is stamped once, where it is made, so no producer (the
// network stack, the resolver, the file judge, the socket gate, the AppArmor follower) needs
// to know which run it serves.
func Stamp(s Sink, runID, profile string) Sink {
	return stamped{next: s, runID: runID, profile: profile}
}

type stamped struct {
	next           Sink
	runID, profile string
}

func (s stamped) Record(e Event) {
	e.RunID, e.Profile = s.runID, s.profile
	s.next.Record(e)
}
