package store

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/agentrun/agentrun/events"
)

// openStore opens a store in dir and closes it when the test ends.
func openStore(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func beginRun(t *testing.T, s *Store, info RunInfo) *Run {
	t.Helper()
	r, err := s.BeginRun(info)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func endRun(t *testing.T, r *Run, code int) {
	t.Helper()
	if err := r.End(code); err != nil {
		t.Fatal(err)
	}
}

func mustEvents(t *testing.T, s *Store, f Filter) []events.Event {
	t.Helper()
	evs, err := s.Events(f)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func mustRuns(t *testing.T, s *Store, f Filter) []RunInfo {
	t.Helper()
	runs, err := s.Runs(f)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func mustAggregates(t *testing.T, s *Store, f Filter) []Aggregate {
	t.Helper()
	aggs, err := s.Aggregates(f)
	if err != nil {
		t.Fatal(err)
	}
	return aggs
}

// checkIntegrity fails the test unless SQLite finds the database intact.
func checkIntegrity(t *testing.T, s *Store) {
	t.Helper()
	var res string
	if err := s.db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil {
		t.Fatal(err)
	}
	if res != "ok" {
		t.Fatalf("integrity_check: %s", res)
	}
}

// flowEvent is an allowed HTTPS flow to api.example.test, numbered by Bytes.
func flowEvent(at time.Time, i int) events.Event {
	return events.Event{
		Time: at, Kind: events.KindFlow, Name: "api.example.test", Address: "192.0.2.10", Port: 443,
		Protocol: "tcp", Verdict: events.Allowed, Rule: "web.yaml:3", Exe: "/usr/bin/curl", Bytes: int64(i),
	}
}

func TestRoundTrip(t *testing.T) {
	// Characters that mean something in a URI, to check the DSN escapes the path.
	dir := filepath.Join(t.TempDir(), "state ?#%&=", "agentrun")
	s := openStore(t, dir, Options{})
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Second).Add(123456789 * time.Nanosecond)
	at := func(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }

	chain := []string{"curl https://api.example.test (pid 12)", "bash -c make (pid 7)"}
	dns := events.Event{Time: at(0), Kind: events.KindDNS, Process: "curl (pid 12)", Exe: "/usr/bin/curl",
		Chain: chain, Name: "api.example.test", Protocol: "A", Verdict: events.Allowed, Rule: "web.yaml:3"}
	flowLate := flowEvent(at(2), 2)
	flowLate.Chain, flowLate.Process = chain, "curl (pid 12)"
	flowEarly := flowEvent(at(1), 1)
	denied := events.Event{Time: at(3), Kind: events.KindFlow, Address: "203.0.113.9", Port: 443, Protocol: "tcp",
		Verdict: events.Denied, Reason: "no rule allows 203.0.113.9", Exe: "/usr/bin/curl"}
	file := events.Event{Time: at(4), Kind: events.KindFile, Op: "read", Path: "/home/u/.ssh/id_ed25519",
		Verdict: events.WouldDeny, Rule: "default deny", Exe: "/usr/bin/cat", Chain: []string{"cat (pid 30)"}}
	execEv := events.Event{Time: at(5), Kind: events.KindExec, Op: "exec", Path: "/usr/bin/git",
		Verdict: events.Allowed, Rule: "web.yaml:9", Exe: "/usr/bin/bash", Process: "bash (pid 7)"}
	other := events.Event{Time: at(6), Profile: "other", RunID: "elsewhere", Kind: events.KindFile, Op: "write",
		Path: "/tmp/x", Verdict: events.Allowed}
	v6 := events.Event{Time: at(7), Kind: events.KindFlow, Address: "2001:db8::1", Port: 5432, Protocol: "tcp",
		Verdict: events.Denied}

	web := beginRun(t, s, RunInfo{ID: "run-web", Profile: "web", Mode: "audit", Command: []string{"claude", "--yes"}, Started: at(-10)})
	web.Record(dns)
	web.Record(flowLate)
	if err := web.Flush(); err != nil {
		t.Fatal(err)
	}
	// Older than what is committed: the aggregate's first moves, its last and example stay.
	for _, e := range []events.Event{flowEarly, denied, file, execEv, other} {
		web.Record(e)
	}
	endRun(t, web, 3)
	web.Record(events.Event{Time: at(8), Kind: events.KindDNS, Name: "after.end.test", Verdict: events.Allowed})
	db := beginRun(t, s, RunInfo{ID: "run-db", Profile: "db", Mode: "enforce", Command: []string{"psql"}, Started: at(-5)})
	db.Record(v6)
	endRun(t, db, 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, dir, Options{})
	checkIntegrity(t, s)
	fill := func(e events.Event, run, profile string) events.Event {
		if e.RunID == "" {
			e.RunID = run
		}
		if e.Profile == "" {
			e.Profile = profile
		}
		return e
	}
	dns, flowLate, flowEarly, denied = fill(dns, "run-web", "web"), fill(flowLate, "run-web", "web"), fill(flowEarly, "run-web", "web"), fill(denied, "run-web", "web")
	file, execEv, other, v6 = fill(file, "run-web", "web"), fill(execEv, "run-web", "web"), fill(other, "", ""), fill(v6, "run-db", "db")

	eventTests := []struct {
		name   string
		filter Filter
		want   []events.Event
	}{
		{"all", Filter{}, []events.Event{dns, flowEarly, flowLate, denied, file, execEv, other, v6}},
		{"run", Filter{RunID: "run-db"}, []events.Event{v6}},
		{"run of an event with its own run ID", Filter{RunID: "run-web", Profile: "other"}, []events.Event{other}},
		{"profile", Filter{Profile: "web"}, []events.Event{dns, flowEarly, flowLate, denied, file, execEv}},
		{"verdicts", Filter{Verdicts: []events.Verdict{events.Denied, events.WouldDeny}}, []events.Event{denied, file, v6}},
		{"kinds", Filter{Kinds: []events.Kind{events.KindFile, events.KindExec}}, []events.Event{file, execEv, other}},
		{"since", Filter{Since: at(5)}, []events.Event{execEv, other, v6}},
		{"limit keeps the newest", Filter{Profile: "web", Limit: 2}, []events.Event{file, execEv}},
		{"combined", Filter{Profile: "web", Kinds: []events.Kind{events.KindFlow}, Verdicts: []events.Verdict{events.Allowed}}, []events.Event{flowEarly, flowLate}},
		{"nothing", Filter{Profile: "none"}, nil},
	}
	for _, tc := range eventTests {
		t.Run("events/"+tc.name, func(t *testing.T) {
			got := mustEvents(t, s, tc.filter)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Events(%+v):\n got %+v\nwant %+v", tc.filter, got, tc.want)
			}
		})
	}

	runs := mustRuns(t, s, Filter{})
	if len(runs) != 2 {
		t.Fatalf("Runs: got %d runs, want 2: %+v", len(runs), runs)
	}
	wantRuns := []RunInfo{
		{ID: "run-db", Profile: "db", Mode: "enforce", Command: []string{"psql"}, Started: at(-5), ExitCode: 0, Events: 1},
		{ID: "run-web", Profile: "web", Mode: "audit", Command: []string{"claude", "--yes"}, Started: at(-10), ExitCode: 3, Events: 7},
	}
	for i, got := range runs {
		want := wantRuns[i]
		if got.Ended.IsZero() || got.Ended.Before(got.Started) {
			t.Errorf("run %s: Ended %v, want a time after Started %v", got.ID, got.Ended, got.Started)
		}
		if !got.Started.Equal(want.Started) {
			t.Errorf("run %s: Started %v, want %v", got.ID, got.Started, want.Started)
		}
		got.Started, got.Ended = want.Started, want.Ended
		if !reflect.DeepEqual(got, want) {
			t.Errorf("run %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	runTests := []struct {
		name   string
		filter Filter
		want   string
	}{
		{"profile", Filter{Profile: "web"}, "run-web"},
		{"run", Filter{RunID: "run-web"}, "run-web"},
		{"since is on started", Filter{Since: at(-7)}, "run-db"},
		{"limit keeps the newest", Filter{Limit: 1}, "run-db"},
	}
	for _, tc := range runTests {
		t.Run("runs/"+tc.name, func(t *testing.T) {
			if got := mustRuns(t, s, tc.filter); len(got) != 1 || got[0].ID != tc.want {
				t.Errorf("Runs(%+v) = %+v, want %s alone", tc.filter, got, tc.want)
			}
		})
	}

	agg := func(profile string, e events.Event, op, target string, count int64, first time.Time) Aggregate {
		return Aggregate{Profile: profile, Kind: e.Kind, Op: op, Target: target, Verdict: e.Verdict, Rule: e.Rule,
			Exe: e.Exe, Count: count, First: first, Last: e.Time, Example: e}
	}
	wantAggs := []Aggregate{
		agg("web", dns, "A", "api.example.test", 1, dns.Time),
		agg("web", execEv, "exec", "/usr/bin/git", 1, execEv.Time),
		agg("web", file, "read", "/home/u/.ssh/id_ed25519", 1, file.Time),
		agg("other", other, "write", "/tmp/x", 1, other.Time),
		agg("web", denied, "tcp", "203.0.113.9:443", 1, denied.Time),
		agg("db", v6, "tcp", "[2001:db8::1]:5432", 1, v6.Time),
		agg("web", flowLate, "tcp", "api.example.test:443", 2, flowEarly.Time),
	}
	checkAggregates := func(t *testing.T, got, want []Aggregate) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("got %d aggregates, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
		}
		for i := range got {
			g, w := got[i], want[i]
			if !g.First.Equal(w.First) || !g.Last.Equal(w.Last) {
				t.Errorf("aggregate %d: first, last %v, %v, want %v, %v", i, g.First, g.Last, w.First, w.Last)
			}
			g.First, g.Last = w.First, w.Last
			if !reflect.DeepEqual(g, w) {
				t.Errorf("aggregate %d:\n got %+v\nwant %+v", i, g, w)
			}
		}
	}
	aggTests := []struct {
		name   string
		filter Filter
		want   []Aggregate
	}{
		{"all", Filter{}, wantAggs},
		{"profile", Filter{Profile: "db"}, wantAggs[5:6]},
		{"kinds", Filter{Kinds: []events.Kind{events.KindFlow}}, wantAggs[4:]},
		{"verdicts", Filter{Verdicts: []events.Verdict{events.WouldDeny}}, wantAggs[2:3]},
		{"since is on last", Filter{Profile: "web", Since: at(2)}, []Aggregate{wantAggs[1], wantAggs[2], wantAggs[4], wantAggs[6]}},
		{"limit", Filter{Limit: 2}, wantAggs[:2]},
	}
	for _, tc := range aggTests {
		t.Run("aggregates/"+tc.name, func(t *testing.T) {
			checkAggregates(t, mustAggregates(t, s, tc.filter), tc.want)
		})
	}
}

func TestMaxRunEvents(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{MaxRunEvents: 10})
	base := time.Now().UTC()
	r := beginRun(t, s, RunInfo{ID: "r", Profile: "p"})
	for i := range 25 {
		r.Record(flowEvent(base.Add(time.Duration(i)*time.Millisecond), i))
		if i == 6 { // the limit is crossed in a later commit
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	endRun(t, r, 0)

	evs := mustEvents(t, s, Filter{RunID: "r"})
	if len(evs) != 10 {
		t.Fatalf("got %d raw events, want 10", len(evs))
	}
	for i, e := range evs {
		if e.Bytes != int64(i) {
			t.Errorf("raw event %d is event %d, want the first ten kept", i, e.Bytes)
		}
	}
	runs := mustRuns(t, s, Filter{RunID: "r"})
	if len(runs) != 1 || runs[0].Events != 10 || runs[0].Dropped != 15 {
		t.Errorf("Runs = %+v, want Events 10, Dropped 15", runs)
	}
	aggs := mustAggregates(t, s, Filter{})
	if len(aggs) != 1 {
		t.Fatalf("got %d aggregates, want 1: %+v", len(aggs), aggs)
	}
	a := aggs[0]
	if a.Count != 25 || !a.First.Equal(base) || !a.Last.Equal(base.Add(24*time.Millisecond)) || a.Example.Bytes != 24 {
		t.Errorf("aggregate: count %d, first %v, last %v, example %d; want 25, %v, %v, 24",
			a.Count, a.First, a.Last, a.Example.Bytes, base, base.Add(24*time.Millisecond))
	}
}

func TestCommitsWithoutFlush(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	r := beginRun(t, s, RunInfo{ID: "r", Profile: "p"})
	defer r.End(0)
	r.Record(flowEvent(time.Now(), 0))
	deadline := time.Now().Add(10 * time.Second) // far more than 50 ms, for a loaded machine
	for len(mustEvents(t, s, Filter{})) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a recorded event was not committed without Flush")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRecordDoesNotWaitForTheDatabase(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	r := beginRun(t, s, RunInfo{ID: "r", Profile: "p"})

	// Another connection holds the write lock, so the writer waits in BEGIN.
	other, err := sql.Open("sqlite", dsn(s.Path()))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	r.Record(flowEvent(time.Now(), 0))
	time.Sleep(4 * flushInterval) // the writer is waiting in BEGIN to commit it
	const n = 5000
	for i := 1; i <= n; i++ {
		r.Record(flowEvent(time.Now(), i))
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	endRun(t, r, 0)
	runs := mustRuns(t, s, Filter{RunID: "r"})
	if len(runs) != 1 {
		t.Fatalf("Runs = %+v", runs)
	}
	if got := runs[0]; got.Events != n+1 || got.Dropped != 0 || got.Capped != 0 {
		t.Errorf("Events %d, Dropped %d, Capped %d; want %d, 0, 0", got.Events, got.Dropped, got.Capped, n+1)
	}
	if info := r.Info(); info.Events != n+1 || info.Dropped != 0 {
		t.Errorf("Info() = %+v, want Events %d", info, n+1)
	}
}

func TestPrune(t *testing.T) {
	const day = 24 * time.Hour
	s := openStore(t, t.TempDir(), Options{RawAge: 10 * day, AggregateAge: 20 * day})
	base := time.Now().UTC()

	old := beginRun(t, s, RunInfo{ID: "old", Profile: "p", Started: base.Add(-time.Minute)})
	oldEv := events.Event{Time: base, Kind: events.KindExec, Op: "exec", Path: "/bin/old", Verdict: events.Allowed}
	old.Record(oldEv)
	endRun(t, old, 0)
	recent := beginRun(t, s, RunInfo{ID: "recent", Profile: "p", Started: base.Add(-time.Minute)})
	recentEv := events.Event{Time: base.Add(15 * day), Kind: events.KindExec, Op: "exec", Path: "/bin/recent", Verdict: events.Allowed}
	recent.Record(recentEv)
	endRun(t, recent, 0)

	targets := func() []string {
		var ts []string
		for _, a := range mustAggregates(t, s, Filter{}) {
			ts = append(ts, a.Target)
		}
		return ts
	}
	runIDs := func() []string {
		var ids []string
		for _, r := range mustRuns(t, s, Filter{}) {
			ids = append(ids, r.ID)
		}
		return ids
	}
	rawPaths := func() []string {
		var ps []string
		for _, e := range mustEvents(t, s, Filter{}) {
			ps = append(ps, e.Path)
		}
		return ps
	}

	// Twelve days on: the old raw event and its run go (both ended ten days before), the
	// recent run keeps its event though it ended as long ago; every aggregate stays.
	if err := s.Prune(base.Add(12 * day)); err != nil {
		t.Fatal(err)
	}
	if got, want := rawPaths(), []string{"/bin/recent"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after 12 days: raw events %v, want %v", got, want)
	}
	if got, want := runIDs(), []string{"recent"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after 12 days: runs %v, want %v", got, want)
	}
	if got, want := targets(), []string{"/bin/old", "/bin/recent"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after 12 days: aggregates %v, want %v", got, want)
	}

	// Thirty days on: no raw events, no runs, and only the aggregate seen in the last 20 days.
	if err := s.Prune(base.Add(30 * day)); err != nil {
		t.Fatal(err)
	}
	if got := rawPaths(); len(got) != 0 {
		t.Errorf("after 30 days: raw events %v, want none", got)
	}
	if got := runIDs(); len(got) != 0 {
		t.Errorf("after 30 days: runs %v, want none", got)
	}
	if got, want := targets(), []string{"/bin/recent"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after 30 days: aggregates %v, want %v", got, want)
	}
	checkIntegrity(t, s)
}

func TestPruneMaxRawEvents(t *testing.T) {
	defer func(n int64) { pruneChunk = n }(pruneChunk)
	pruneChunk = 7 // several chunks, the last one partial
	s := openStore(t, t.TempDir(), Options{MaxRawEvents: 100})
	base := time.Now().UTC()
	// Two runs whose events interleave in time; recorded newest first, so that the
	// insertion order is not the time order.
	a := beginRun(t, s, RunInfo{ID: "a", Profile: "p"})
	b := beginRun(t, s, RunInfo{ID: "b", Profile: "p"})
	const n = 250
	for i := n - 1; i >= 0; i-- {
		r := a
		if i%2 == 1 {
			r = b
		}
		r.Record(flowEvent(base.Add(time.Duration(i)*time.Millisecond), i))
	}
	endRun(t, a, 0)
	endRun(t, b, 0)
	if err := s.Prune(time.Now()); err != nil {
		t.Fatal(err)
	}
	evs := mustEvents(t, s, Filter{})
	if len(evs) != 100 {
		t.Fatalf("got %d raw events, want 100", len(evs))
	}
	for i, e := range evs {
		if want := int64(n - 100 + i); e.Bytes != want {
			t.Fatalf("raw event %d is event %d, want %d: the newest kept", i, e.Bytes, want)
		}
	}
	total := 0
	for _, r := range mustRuns(t, s, Filter{}) {
		if r.Events != 50 {
			t.Errorf("run %s: Events %d, want 50", r.ID, r.Events)
		}
		total += r.Events
	}
	if total != 100 {
		t.Errorf("runs count %d events, want 100", total)
	}
	if aggs := mustAggregates(t, s, Filter{}); len(aggs) != 1 || aggs[0].Count != n {
		t.Errorf("aggregates %+v, want one counting %d", aggs, n)
	}
}

func TestOpenPrunesDaily(t *testing.T) {
	dir := t.TempDir()
	opts := Options{RawAge: time.Hour}
	s := openStore(t, dir, opts)
	r := beginRun(t, s, RunInfo{ID: "r", Profile: "p"})
	r.Record(flowEvent(time.Now().Add(-2*time.Hour), 0))
	endRun(t, r, 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Pruned on the first open, moments ago: not again.
	s = openStore(t, dir, opts)
	if got := mustEvents(t, s, Filter{}); len(got) != 1 {
		t.Fatalf("reopened within a day: %d events, want 1", len(got))
	}
	if _, err := s.db.Exec(`UPDATE meta SET value = ? WHERE key = 'last_prune'`,
		strconv.FormatInt(time.Now().Add(-25*time.Hour).UnixNano(), 10)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, opts)
	if got := mustEvents(t, s, Filter{}); len(got) != 0 {
		t.Errorf("reopened a day after the last prune: %d events, want 0", len(got))
	}
}

// The helper process: the test binary run again with helperEnv set, to be a second
// agentrun process or one killed with SIGKILL.
const (
	helperEnv = "AGENTRUN_STORE_TEST_HELPER" // crash or concurrent
	dirEnv    = "AGENTRUN_STORE_TEST_DIR"
	countEnv  = "AGENTRUN_STORE_TEST_COUNT"
	runEnv    = "AGENTRUN_STORE_TEST_RUN"
)

func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("not a test: the helper process of TestCrash and TestConcurrentProcesses")
	}
	n, _ := strconv.Atoi(os.Getenv(countEnv))
	if err := helper(mode, os.Getenv(dirEnv), os.Getenv(runEnv), n); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func helper(mode, dir, runID string, n int) error {
	s, err := Open(dir, Options{})
	if err != nil {
		return err
	}
	r, err := s.BeginRun(RunInfo{ID: runID, Profile: "shared", Mode: "enforce", Command: []string{"agent"}})
	if err != nil {
		return err
	}
	switch mode {
	case "leave":
		for i := range n {
			r.Record(flowEvent(time.Now(), i))
		}
		if err := r.End(3); err != nil {
			return err
		}
		return s.Leave()
	case "crash":
		for i := range n {
			r.Record(flowEvent(time.Now(), i))
		}
		if err := r.Flush(); err != nil {
			return err
		}
		fmt.Println("flushed")
		for i := n; ; i++ {
			r.Record(flowEvent(time.Now(), i))
			time.Sleep(5 * time.Millisecond)
		}
	case "concurrent":
		fmt.Println("ready")
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			return err
		}
		for i := range n {
			r.Record(flowEvent(time.Now(), i))
			if i%100 == 99 { // many transactions, to interleave with the other process's
				if err := r.Flush(); err != nil {
					return err
				}
			}
		}
		if err := r.End(0); err != nil {
			return err
		}
		return s.Close()
	}
	return fmt.Errorf("unknown mode %q", mode)
}

// startHelper starts the helper process; its stdout is read line by line from the channel.
func startHelper(t *testing.T, mode, dir, runID string, n int) (*exec.Cmd, io.WriteCloser, <-chan string, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, dirEnv+"="+dir, runEnv+"="+runID, countEnv+"="+strconv.Itoa(n))
	stderr := new(bytes.Buffer)
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd, stdin, lines, stderr
}

func waitLine(t *testing.T, lines <-chan string, want string, stderr *bytes.Buffer) {
	t.Helper()
	select {
	case got, ok := <-lines:
		if !ok || got != want {
			t.Fatalf("helper said %q (open %v), want %q; stderr:\n%s", got, ok, want, stderr)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("no %q from the helper in a minute", want)
	}
}

func TestCrash(t *testing.T) {
	dir := t.TempDir()
	const n = 5000 // several batches
	cmd, _, lines, stderr := startHelper(t, "crash", dir, "crash", n)
	waitLine(t, lines, "flushed", stderr)
	// At once: the flushed events must be committed, not about to be.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("the helper exited cleanly; want killed")
	}

	s := openStore(t, dir, Options{})
	checkIntegrity(t, s)
	evs := mustEvents(t, s, Filter{RunID: "crash"})
	if len(evs) < n {
		t.Fatalf("after SIGKILL: %d events, want at least the %d flushed", len(evs), n)
	}
	for i := range n {
		if evs[i].Bytes != int64(i) {
			t.Fatalf("event %d is event %d", i, evs[i].Bytes)
		}
	}
	runs := mustRuns(t, s, Filter{RunID: "crash"})
	if len(runs) != 1 || !runs[0].Ended.IsZero() || runs[0].Events != len(evs) {
		t.Errorf("Runs = %+v, want one without an end, counting %d events", runs, len(evs))
	}
}

// TestLeave: a process that leaves the store (no checkpoint at its exit) loses nothing; the
// next process reads what it committed from the WAL, and its Close moves that into the
// database.
func TestLeave(t *testing.T) {
	dir := t.TempDir()
	for i, id := range []string{"first", "second"} {
		const n = 10
		cmd, _, _, stderr := startHelper(t, "leave", dir, id, n)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper: %v; stderr:\n%s", err, stderr)
		}
		wal := filepath.Join(dir, fileName+"-wal")
		if fi, err := os.Stat(wal); err != nil || fi.Size() == 0 {
			t.Fatalf("after Leave the WAL is %v (%v); want it to hold the run, not checkpointed", fi, err)
		}
		s := openStore(t, dir, Options{})
		checkIntegrity(t, s)
		runs := mustRuns(t, s, Filter{})
		if len(runs) != i+1 {
			t.Fatalf("after %d processes left the store: runs %+v", i+1, runs)
		}
		got := mustRuns(t, s, Filter{RunID: id})
		if len(got) != 1 || got[0].Ended.IsZero() || got[0].ExitCode != 3 || got[0].Events != n {
			t.Fatalf("run %s as read back: %+v; want ended, exit 3, %d events", id, got, n)
		}
		if evs := mustEvents(t, s, Filter{RunID: id}); len(evs) != n {
			t.Fatalf("run %s: %d events, want %d", id, len(evs), n)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(wal); err == nil && fi.Size() > 0 {
			t.Fatalf("after Close the WAL still holds %d bytes; want it checkpointed", fi.Size())
		}
	}
}

func TestConcurrentProcesses(t *testing.T) {
	dir := t.TempDir() // the store is created by the two processes at once
	const n = 2000
	type helper struct {
		cmd    *exec.Cmd
		stdin  io.WriteCloser
		lines  <-chan string
		stderr *bytes.Buffer
	}
	var hs []helper
	for _, id := range []string{"one", "two"} {
		cmd, stdin, lines, stderr := startHelper(t, "concurrent", dir, id, n)
		hs = append(hs, helper{cmd, stdin, lines, stderr})
	}
	for _, h := range hs {
		waitLine(t, h.lines, "ready", h.stderr)
	}
	for _, h := range hs {
		if _, err := io.WriteString(h.stdin, "go\n"); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range hs {
		if err := h.cmd.Wait(); err != nil {
			t.Fatalf("helper: %v; stderr:\n%s", err, h.stderr)
		}
	}

	s := openStore(t, dir, Options{})
	checkIntegrity(t, s)
	if got := mustEvents(t, s, Filter{Profile: "shared"}); len(got) != 2*n {
		t.Errorf("got %d raw events, want %d", len(got), 2*n)
	}
	aggs := mustAggregates(t, s, Filter{Profile: "shared"})
	if len(aggs) != 1 || aggs[0].Count != 2*n || aggs[0].Target != "api.example.test:443" {
		t.Errorf("aggregates %+v, want one for api.example.test:443 counting %d", aggs, 2*n)
	}
	runs := mustRuns(t, s, Filter{Profile: "shared"})
	if len(runs) != 2 {
		t.Fatalf("runs %+v, want 2", runs)
	}
	for _, r := range runs {
		if r.Events != n || r.Dropped != 0 || r.Ended.IsZero() {
			t.Errorf("run %s: Events %d, Dropped %d, Ended %v; want %d, 0, a time", r.ID, r.Events, r.Dropped, r.Ended, n)
		}
	}
}
