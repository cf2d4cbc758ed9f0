package launcher

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/events/store"
	"github.com/agentrun/agentrun/profiles"
)

func TestCapLines(t *testing.T) {
	if got := capLines(store.RunInfo{Events: 12}, 0, ""); len(got) != 0 {
		t.Errorf("nothing capped: %q, want no line", got)
	}
	got := capLines(store.RunInfo{Capped: 120000, Dropped: 5}, 3, "ev.jsonl")
	if len(got) != 3 || !strings.HasPrefix(got[0], "120,000 more events were only counted") ||
		!strings.Contains(got[0], "cap 10,000 groups per run, 100,000 per profile") ||
		!strings.HasPrefix(got[1], "5 events") || !strings.Contains(got[2], "ev.jsonl") {
		t.Errorf("capLines = %q", got)
	}
}

// TestRecordJournal checks where an enforce-mode run is recorded: without events, in the
// store's run journal only (the database is not opened); with one, in the database, which
// imports the journal's runs as it opens.
func TestRecordJournal(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	dir := filepath.Join(state, "agentrun")
	plan := &Plan{Policy: &profiles.Policy{Name: "base", Mode: profiles.ModeEnforce}, Command: []string{"true"}}

	quiet := startRecord(plan, "quiet", RunOptions{})
	quiet.started()
	if info, stored := quiet.end(0, io.Discard); !stored || info.ID != "quiet" || info.Ended.IsZero() {
		t.Fatalf("a run without events: %+v, stored %v", info, stored)
	}
	if _, err := os.Stat(filepath.Join(dir, "events.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a run without events opened the database: %v", err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "runs.journal")); err != nil || strings.Count(string(data), `"id":"quiet"`) != 2 {
		t.Fatalf("the journal: %q, %v", data, err)
	}

	denied := startRecord(plan, "denied", RunOptions{})
	denied.started()
	denied.Record(events.Event{Kind: events.KindFile, Op: "read", Path: "/secret", Verdict: events.Denied})
	info, stored := denied.end(1, io.Discard)
	if !stored || info.Events != 1 {
		t.Fatalf("a run with an event: %+v, stored %v", info, stored)
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range runs {
		got[r.ID] = r.Events
		if r.Ended.IsZero() {
			t.Errorf("run %s has no end", r.ID)
		}
	}
	if len(got) != 2 || got["denied"] != 1 {
		t.Fatalf("runs in the database: %v", got)
	}
}
