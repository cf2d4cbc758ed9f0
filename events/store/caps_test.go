package store

import (
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/agentrun/agentrun/events"
)

// deniedFile is a denied create of path by a process whose command line is cmd.
func deniedFile(at time.Time, path, cmd string) events.Event {
	return events.Event{Time: at, Kind: events.KindFile, Op: "create", Path: path, Verdict: events.Denied,
		Rule: "filesystem: not in a write rule", Exe: "/usr/bin/perl", Process: cmd + " (pid 12)",
		Chain: []string{cmd + " (pid 12)", "bash (pid 2)"}}
}

func overflowCount(t *testing.T, s *Store, f Filter) int64 {
	t.Helper()
	over, err := s.Overflow(f)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, o := range over {
		n += o.Count
	}
	return n
}

func TestRunAggregateCap(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{MaxRunAggregates: 5})
	now := time.Now()
	r := beginRun(t, s, RunInfo{ID: "r", Profile: "p"})
	for i := range 20 {
		r.Record(deniedFile(now, fmt.Sprintf("/etc/x%d", i), "perl"))
		if i == 3 {
			if err := r.Flush(); err != nil { // the cap is crossed in a later commit
				t.Fatal(err)
			}
		}
	}
	for range 7 { // a group counted one by one goes on counting
		r.Record(deniedFile(now, "/etc/x0", "perl"))
	}
	endRun(t, r, 0)

	aggs := mustAggregates(t, s, Filter{Profile: "p"})
	if len(aggs) != 5 {
		t.Fatalf("got %d aggregates, want 5", len(aggs))
	}
	for _, a := range aggs {
		if want := int64(1 + 7*b2i(a.Target == "/etc/x0")); a.Count != want {
			t.Errorf("%s counts %d, want %d", a.Target, a.Count, want)
		}
	}
	if n := overflowCount(t, s, Filter{Profile: "p", Verdicts: []events.Verdict{events.Denied}}); n != 15 {
		t.Errorf("overflow %d, want 15", n)
	}
	runs := mustRuns(t, s, Filter{RunID: "r"})
	if len(runs) != 1 || runs[0].Capped != 15 || runs[0].Events != 27 {
		t.Errorf("Runs = %+v, want Capped 15, Events 27 (raw events are kept below their own cap)", runs)
	}
	if info := r.Info(); info.Capped != 15 {
		t.Errorf("Info().Capped = %d, want 15", info.Capped)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A profile's cap stops new groups of any run, evicts nothing, and leaves other profiles alone.
func TestProfileAggregateCap(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{MaxRunAggregates: 5, MaxProfileAggregates: 8})
	now := time.Now()
	record := func(id, profile, prefix string, n int) *Run {
		r := beginRun(t, s, RunInfo{ID: id, Profile: profile})
		for i := range n {
			r.Record(deniedFile(now, fmt.Sprintf("%s%d", prefix, i), "perl"))
		}
		return r
	}
	first := record("first", "p", "/etc/first", 5)
	other := record("other", "q", "/etc/other", 5)
	if err := first.Flush(); err != nil {
		t.Fatal(err)
	}
	flood := record("flood", "p", "/etc/flood", 1000)
	for _, r := range []*Run{first, other, flood} {
		endRun(t, r, 0)
	}

	aggs := mustAggregates(t, s, Filter{Profile: "p"})
	var firsts, floods int
	for _, a := range aggs {
		switch {
		case strings.HasPrefix(a.Target, "/etc/first"):
			firsts++
		case strings.HasPrefix(a.Target, "/etc/flood"):
			floods++
		}
	}
	if firsts != 5 || floods != 3 {
		t.Errorf("profile p: %d aggregates of the first run, %d of the flood; want 5 and 3", firsts, floods)
	}
	if n := len(mustAggregates(t, s, Filter{Profile: "q"})); n != 5 {
		t.Errorf("profile q: %d aggregates, want 5", n)
	}
	if n := overflowCount(t, s, Filter{Profile: "p"}); n != 997 {
		t.Errorf("profile p overflow %d, want 997 (995 past the run's cap, 2 past the profile's)", n)
	}
	if n := overflowCount(t, s, Filter{Profile: "q"}); n != 0 {
		t.Errorf("profile q overflow %d, want 0", n)
	}
	for _, r := range mustRuns(t, s, Filter{}) {
		want := map[string]int{"first": 0, "other": 0, "flood": 997}[r.ID]
		if r.Capped != want {
			t.Errorf("run %s: Capped %d, want %d", r.ID, r.Capped, want)
		}
	}
	// The groups already there go on counting at the cap.
	again := record("again", "p", "/etc/first", 5)
	endRun(t, again, 0)
	if info := again.Info(); info.Capped != 0 {
		t.Errorf("a run counting existing groups at the cap: Capped %d, want 0", info.Capped)
	}
	// Prune counts the profile's aggregates afresh: room again once old ones go.
	if err := s.Prune(now.Add(DefaultAggregateAge + time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := len(mustAggregates(t, s, Filter{})); n != 0 {
		t.Fatalf("after the aggregates' age: %d aggregates", n)
	}
	if n := overflowCount(t, s, Filter{}); n != 0 {
		t.Errorf("after the aggregates' age: overflow %d", n)
	}
	later := record("later", "p", "/etc/later", 5)
	endRun(t, later, 0)
	if info := later.Info(); info.Capped != 0 {
		t.Errorf("after Prune: Capped %d, want 0", info.Capped)
	}
}

// Strings as long as an agent can make them are bounded before they are stored.
func TestLongStringsBounded(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	r := beginRun(t, s, RunInfo{ID: "r", Profile: "p"})
	long := "/" + strings.Repeat("a", 4090)
	e := deniedFile(time.Now(), long, strings.Repeat("perl ", 2000))
	for range 20 {
		e.Chain = append(e.Chain, strings.Repeat("\x1b", 4000))
	}
	r.Record(e)
	endRun(t, r, 0)
	evs := mustEvents(t, s, Filter{})
	if len(evs) != 1 {
		t.Fatalf("got %d events", len(evs))
	}
	got := evs[0]
	if len(got.Path) > events.MaxPathLen || !strings.HasSuffix(got.Path, events.Truncated) ||
		len(got.Process) > events.MaxProcessLen || len(got.Chain) > events.MaxChain {
		t.Errorf("stored path of %d bytes, process of %d, chain of %d entries; want at most %d, %d, %d",
			len(got.Path), len(got.Process), len(got.Chain), events.MaxPathLen, events.MaxProcessLen, events.MaxChain)
	}
	aggs := mustAggregates(t, s, Filter{})
	if len(aggs) != 1 || aggs[0].Target != got.Path {
		t.Errorf("aggregates %+v, want one for the shortened path", aggs)
	}
}

// A flood of unique events with the longest strings grows the store by less than 50 MiB.
func TestFloodGrowth(t *testing.T) {
	if testing.Short() {
		t.Skip("records 40,000 events")
	}
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	r := beginRun(t, s, RunInfo{ID: "flood", Profile: "p"})
	now := time.Now()
	cmd := strings.Repeat("\x01", 300) // JSON writes each as \u0001: six bytes
	pad := strings.Repeat("\x02", 900)
	const n = 40_000
	for i := range n {
		e := deniedFile(now, fmt.Sprintf("/etc/%s%d", pad, i), cmd)
		e.Chain = []string{cmd, cmd, cmd, cmd, cmd, cmd, cmd, cmd, cmd}
		r.Record(e)
	}
	endRun(t, r, 0)
	info := r.Info()
	if info.Events+info.Dropped != n || info.Capped < n-DefaultMaxRunAggregates {
		t.Errorf("Info() = %+v; want Events+Dropped %d, Capped at least %d", info, n, n-DefaultMaxRunAggregates)
	}
	if err := s.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(s.Path() + suffix); err == nil {
			size += fi.Size()
		}
	}
	t.Logf("%d events: %d raw kept, %d aggregates, store %.1f MiB", n, info.Events,
		len(mustAggregates(t, s, Filter{})), float64(size)/(1<<20))
	if size >= 50<<20 {
		t.Errorf("the store is %d bytes after a flood, want under 50 MiB", size)
	}
}

// A version 1 store gains the caps' tables, with its profiles' aggregates counted.
func TestMigrateFromVersion1(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/" + fileName
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	now := nanos(time.Now())
	for _, q := range append(schema, `PRAGMA user_version = 1`,
		`INSERT INTO aggregates VALUES ('p', 'file', 'read', '/a', 'denied', '', '', 1, ?1, ?1, '{}')`,
		`INSERT INTO aggregates VALUES ('p', 'file', 'read', '/b', 'denied', '', '', 1, ?1, ?1, '{}')`) {
		var args []any
		if strings.Contains(q, "?1") {
			args = []any{now}
		}
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s := openStore(t, dir, Options{MaxProfileAggregates: 3})
	checkIntegrity(t, s)
	r := beginRun(t, s, RunInfo{ID: "r", Profile: "p"})
	for _, p := range []string{"/c", "/d"} {
		r.Record(events.Event{Kind: events.KindFile, Op: "read", Path: p, Verdict: events.Denied})
	}
	endRun(t, r, 0)
	if info := r.Info(); info.Capped != 1 {
		t.Errorf("Capped %d, want 1 (two aggregates from version 1, a cap of 3)", info.Capped)
	}
}
