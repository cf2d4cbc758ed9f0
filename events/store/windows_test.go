//go:build unix

package store

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestWindows: begins and ends pair by run whatever their order; a run whose agentrun is gone
// is ended at the reader's time, for later readers too; a live one stays open.
func TestWindows(t *testing.T) {
	dir := t.TempDir()
	self, err := ProcessStart(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(WindowEnd(dir, Options{}, "b", 250)) // an end may come first: the begin is written by another goroutine
	must(WindowBegin(dir, Options{}, AgentWindow{ID: "a", Start: 100, Roots: []string{"/w"}, PID: os.Getpid(), PIDStart: self}))
	must(WindowBegin(dir, Options{}, AgentWindow{ID: "b", Start: 200, Roots: []string{"/w/sub"}, PID: os.Getpid(), PIDStart: self}))
	must(WindowBegin(dir, Options{}, AgentWindow{ID: "dead", Start: 300, Roots: []string{"/x"}, PID: os.Getpid(), PIDStart: self + 1}))
	must(WindowBegin(dir, Options{}, AgentWindow{ID: "live", Start: 400, Roots: []string{"/y"}, PID: os.Getpid(), PIDStart: self}))
	must(WindowEnd(dir, Options{}, "a", 150))
	must(WindowEnd(dir, Options{}, "orphan", 999)) // its begin failed: no window
	got, err := Windows(dir, Options{}, 500)
	must(err)
	want := []AgentWindow{
		{ID: "b", Start: 200, End: 250, Roots: []string{"/w/sub"}, PID: os.Getpid(), PIDStart: self},
		{ID: "a", Start: 100, End: 150, Roots: []string{"/w"}, PID: os.Getpid(), PIDStart: self},
		{ID: "dead", Start: 300, End: 500, Roots: []string{"/x"}, PID: os.Getpid(), PIDStart: self + 1},
		{ID: "live", Start: 400, Roots: []string{"/y"}, PID: os.Getpid(), PIDStart: self},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Windows read\n%+v\nwant\n%+v", got, want)
	}
	// The dead run's end was written: a later reader keeps it.
	again, err := Windows(dir, Options{}, 900)
	must(err)
	if again[2].End != 500 {
		t.Errorf("a later reader ends the dead run at %d, want 500", again[2].End)
	}
	if !want[0].Overlaps("/w") || !want[1].Overlaps("/w/sub/deeper") || want[0].Overlaps("/w/subway") || want[0].Overlaps("/x") {
		t.Errorf("Overlaps: want /w/sub to meet /w and not /w/subway or /x")
	}
}

// TestWindowsCompact: a file past windowsCompactAt is merged; every instant and root of the
// closed windows stays covered, open ones are kept, and an append after the merge is read.
func TestWindowsCompact(t *testing.T) {
	dir := t.TempDir()
	self, err := ProcessStart(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	var all []AgentWindow
	for i := 0; fileSize(t, filepath.Join(dir, windowsName)) <= windowsCompactAt; i++ {
		w := AgentWindow{ID: fmt.Sprint("r", i), Start: int64(i*1000 + i%7 + 1), Roots: []string{fmt.Sprintf("/home/u/p%d/some/longer/path/to/make/lines/longer", i%100)}}
		if err := WindowBegin(dir, Options{}, w); err != nil {
			t.Fatal(err)
		}
		if err := WindowEnd(dir, Options{}, w.ID, w.Start+500); err != nil {
			t.Fatal(err)
		}
		w.End = w.Start + 500
		all = append(all, w)
	}
	open := AgentWindow{ID: "open", Start: 5, Roots: []string{"/o"}, PID: os.Getpid(), PIDStart: self}
	if err := WindowBegin(dir, Options{}, open); err != nil {
		t.Fatal(err)
	}
	if _, err := Windows(dir, Options{}, 1e9); err != nil {
		t.Fatal(err)
	}
	if err := WindowEnd(dir, Options{}, "late", 7); err != nil {
		t.Fatal(err)
	}
	if err := WindowBegin(dir, Options{}, AgentWindow{ID: "late", Start: 6, Roots: []string{"/l"}}); err != nil {
		t.Fatal(err)
	}
	got, err := Windows(dir, Options{}, 1e9)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(dir, windowsName))
	if len(got) > windowsKept+2 || fi.Size() > windowsCompactAt {
		t.Fatalf("after the merge: %d windows, %d bytes; want at most %d, under %d", len(got), fi.Size(), windowsKept+2, windowsCompactAt)
	}
	covered := func(w AgentWindow) bool {
		for _, g := range got {
			if g.Start <= w.Start && (g.End == 0 || g.End >= w.End) && g.Overlaps(w.Roots[0]) {
				return true
			}
		}
		return false
	}
	for _, w := range append(all, open, AgentWindow{ID: "late", Start: 6, End: 7, Roots: []string{"/l"}}) {
		if !covered(w) {
			t.Fatalf("window %+v is no longer covered by %+v", w, got)
		}
	}
}

func fileSize(t *testing.T, p string) int64 {
	fi, err := os.Stat(p)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
