//go:build unix

package store

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/events"
)

// journalStart is the runs' start: recent, or Open's pruning would take the runs.
var journalStart = time.Now().Add(-time.Minute).Truncate(time.Second)

func journalRun(id string) RunInfo {
	return RunInfo{ID: id, Profile: "base", Mode: "enforce", Command: []string{"true", "a b"}, Started: journalStart}
}

func runsByID(t *testing.T, s *Store) map[string]RunInfo {
	t.Helper()
	runs, err := s.Runs(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]RunInfo{}
	for _, r := range runs {
		out[r.ID] = r
	}
	return out
}

// TestJournal checks that the next Open moves the journal's runs into the database, whether a
// run has its start and its end there (a run without events), only its start (a run killed
// before its end) or only its end (a run whose start could not be written), and removes the
// journal; a second Open changes nothing.
func TestJournal(t *testing.T) {
	dir := t.TempDir()
	for _, err := range []error{
		JournalBegin(dir, Options{}, journalRun("ended")),
		JournalBegin(dir, Options{}, journalRun("killed")),
		func() error { _, _, err := JournalEnd(dir, Options{}, journalRun("ended"), 3); return err }(),
		func() error { _, _, err := JournalEnd(dir, Options{}, journalRun("no-start"), 0); return err }(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, journalName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the journal: %v, %v (want mode 0600)", fi, err)
	}
	for i := 0; i < 2; i++ {
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		runs := runsByID(t, s)
		s.Close()
		if len(runs) != 3 {
			t.Fatalf("open %d: runs %v", i, runs)
		}
		if r := runs["ended"]; r.Ended.IsZero() || r.ExitCode != 3 || r.Profile != "base" || len(r.Command) != 2 || r.Command[1] != "a b" || !r.Started.Equal(journalStart) {
			t.Errorf("open %d: ended run %+v", i, r)
		}
		if r := runs["killed"]; !r.Ended.IsZero() {
			t.Errorf("open %d: killed run %+v has an end", i, r)
		}
		if r := runs["no-start"]; r.Ended.IsZero() {
			t.Errorf("open %d: run %+v has no end", i, r)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, journalName+"*")); len(left) != 0 {
			t.Errorf("open %d: left %v", i, left)
		}
	}
}

// TestJournalThenEvents checks that a run whose start an Open imported can still begin in the
// database for its first event, record it and end there.
func TestJournalThenEvents(t *testing.T) {
	dir := t.TempDir()
	if err := JournalBegin(dir, Options{}, journalRun("r1")); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	run, err := s.BeginRun(journalRun("r1"))
	if err != nil {
		t.Fatalf("a run the journal started: %v", err)
	}
	run.Record(events.Event{Kind: events.KindFile, Verdict: events.Denied, Op: "read", Path: "/secret"})
	if err := run.End(7); err != nil {
		t.Fatal(err)
	}
	r := runsByID(t, s)["r1"]
	if r.Events != 1 || r.ExitCode != 7 || r.Ended.IsZero() {
		t.Fatalf("run %+v", r)
	}
}

// TestJournalMoves checks that a run appended while an import renames the journal lands in
// the journal at the path (the file it opened is no longer there: it appends again).
func TestJournalMoves(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, journalName)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Rename(path, path+".import-x"); err != nil {
		t.Fatal(err)
	}
	if current, err := lockCurrent(f, path, nil); err != nil || current {
		t.Fatalf("a renamed journal: current %v, %v", current, err)
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if current, err := lockCurrent(f, path, nil); err != nil || current {
		t.Fatalf("a journal replaced by another: current %v, %v", current, err)
	}
}

// TestJournalRace appends runs from several goroutines (each its own descriptor, as separate
// agentrun processes) while stores open and import over and over: every run is imported, with
// its end, and none is lost between a rename and the read.
func TestJournalRace(t *testing.T) {
	dir := t.TempDir()
	journalOpened = func() { time.Sleep(50 * time.Microsecond) }
	defer func() { journalOpened = func() {} }()
	const writers, each = 6, 40
	var wg sync.WaitGroup
	stop := make(chan struct{})
	importErr := make(chan error, 1)
	go func() {
		defer close(importErr)
		for {
			select {
			case <-stop:
				return
			default:
			}
			s, err := Open(dir, Options{})
			if err != nil {
				importErr <- err
				return
			}
			s.Close()
		}
	}()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				info := journalRun(fmt.Sprintf("w%d-%d", w, i))
				if err := JournalBegin(dir, Options{}, info); err != nil {
					t.Error(err)
					return
				}
				if _, _, err := JournalEnd(dir, Options{}, info, i); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-importErr; err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs := runsByID(t, s)
	if len(runs) != writers*each {
		t.Fatalf("%d runs imported, want %d", len(runs), writers*each)
	}
	for id, r := range runs {
		if r.Ended.IsZero() {
			t.Errorf("run %s lost its end", id)
		}
	}
}

// TestJournalFull checks that JournalEnd says so once the journal passes JournalFull, and that
// an Open then imports every run in it.
func TestJournalFull(t *testing.T) {
	dir := t.TempDir()
	n := 0
	for full := false; !full; n++ {
		var err error
		if _, full, err = JournalEnd(dir, Options{}, journalRun(fmt.Sprintf("r%d", n)), 0); err != nil {
			t.Fatal(err)
		}
		if n > JournalFull/50 {
			t.Fatalf("%d runs and the journal is not full", n)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, journalName)); err != nil || fi.Size() <= JournalFull {
		t.Fatalf("full at %v, %v", fi.Size(), err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if runs := runsByID(t, s); len(runs) != n {
		t.Fatalf("%d runs imported, want %d", len(runs), n)
	}
}

// TestJournalNotAFile checks what is put in the journal's place: a FIFO makes a run's append
// fail at once (the run then opens the database) instead of waiting for a reader; a link is
// not followed; an Open removes either instead of failing on it, and imports nothing from it.
func TestJournalNotAFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, journalName)
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- JournalBegin(dir, Options{}, journalRun("r1")) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("an append to a FIFO succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("an append to a FIFO waits for a reader")
	}
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(target, []byte(`{"id":"planted","started":1}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path+".import-1-1"); err != nil {
		t.Fatal(err)
	}
	if err := JournalBegin(dir, Options{}, journalRun("r2")); err == nil {
		t.Fatal("an append through the FIFO's name succeeded") // the FIFO is still there
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open with a FIFO and a link for journals: %v", err)
	}
	defer s.Close()
	if runs := runsByID(t, s); len(runs) != 0 {
		t.Errorf("runs imported: %v", runs)
	}
	if left, _ := filepath.Glob(path + "*"); len(left) != 0 {
		t.Errorf("left: %v", left)
	}
	if data, err := os.ReadFile(target); err != nil || len(data) == 0 {
		t.Errorf("the link's target changed: %q, %v", data, err)
	}
}

// TestJournalHardLink checks a file hard-linked in the journal's place: a run neither appends
// to it nor takes it over, and an Open removes the link's name without importing the file.
func TestJournalHardLink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere") // same file system: a hard link needs one
	orig := `{"id":"planted","profile":"p","mode":"enforce","command":["x"],"started":1}` + "\n"
	if err := os.WriteFile(target, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, journalName)
	if err := os.Link(target, path); err != nil {
		t.Fatal(err)
	}
	if err := JournalBegin(dir, Options{}, journalRun("r1")); err == nil {
		t.Fatal("an append to a hard-linked journal succeeded")
	}
	if data, _ := os.ReadFile(target); string(data) != orig {
		t.Fatalf("the linked file changed: %q", data)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open with a hard link for a journal: %v", err)
	}
	defer s.Close()
	if runs := runsByID(t, s); len(runs) != 0 {
		t.Errorf("runs imported from the linked file: %v", runs)
	}
	if left, _ := filepath.Glob(path + "*"); len(left) != 0 {
		t.Errorf("left: %v", left)
	}
	if data, _ := os.ReadFile(target); string(data) != orig {
		t.Errorf("the linked file changed: %q", data)
	}
}
