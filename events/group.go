package events

import (
	"net"
	"sort"
	"strconv"
)

// GroupKey is the group an event is counted in, by the event store and a run's report alike:
// the operation (for flows the protocol, for DNS the query type) and the target (the path; for
// DNS the name; for flows name:port, else address:port), as agentrun learn reads them.
func GroupKey(e Event) (op, target string) {
	switch e.Kind {
	case KindFile, KindExec, KindSocket:
		return e.Op, e.Path
	case KindDNS:
		return e.Protocol, e.Name
	case KindFlow:
		host := e.Address
		if e.Name != "" {
			host = e.Name
		}
		if e.Port == 0 { // ICMP, or a port not known
			return e.Protocol, host
		}
		return e.Protocol, net.JoinHostPort(host, strconv.Itoa(int(e.Port)))
	}
	return e.Op, e.Target()
}

// Group is the events of one verdict with one kind, operation, target and rule, as a run's
// Log aggregates them.
type Group struct {
	Verdict Verdict
	Kind    Kind
	Op      string // as GroupKey says
	Target  string // as GroupKey says
	Rule    string
	Count   int
	First   Event // the group's first event (bounded): its time, process chain, reason
}

// groupID is what the Log counts one by one: a group, and the target as the summary shows it.
type groupID struct {
	kind                    Kind
	op, target, rule, shown string
}

func groupIDOf(e Event) groupID {
	op, target := GroupKey(e)
	return groupID{e.Kind, op, target, e.Rule, e.Target()}
}

// Groups returns the denied and would-be denied events of the run aggregated (at most
// maxSummaryTargets groups per verdict: see Counts for the totals), most frequent first.
func (l *Log) Groups() []Group {
	l.mu.Lock()
	defer l.mu.Unlock()
	type key struct {
		v  Verdict
		id groupID
	}
	merged := map[key]*Group{}
	var out []*Group
	for _, v := range []Verdict{Denied, WouldDeny} {
		for id, g := range l.groups[v] {
			id.shown = "" // one group whatever address a name had
			k := key{v, id}
			if m, ok := merged[k]; ok {
				m.Count += g.Count
				if g.First.Time.Before(m.First.Time) {
					m.First = g.First
				}
				continue
			}
			c := *g
			merged[k] = &c
			out = append(out, &c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a.Verdict != b.Verdict:
			return a.Verdict < b.Verdict
		case a.Count != b.Count:
			return a.Count > b.Count
		case a.Target != b.Target:
			return a.Target < b.Target
		case a.Op != b.Op:
			return a.Op < b.Op
		}
		return a.Rule < b.Rule
	})
	groups := make([]Group, len(out))
	for i, g := range out {
		groups[i] = *g
	}
	return groups
}

// VerdictCounts is how many events of each verdict the run had.
func (l *Log) VerdictCounts() map[Verdict]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[Verdict]int, len(l.byVerdict))
	for v, n := range l.byVerdict {
		out[v] = n
	}
	return out
}

// Uncounted is how many denied and would-be denied events were past the cap of groups, counted
// in their verdict's total but in no group.
func (l *Log) Uncounted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.others[Denied] + l.others[WouldDeny]
}
