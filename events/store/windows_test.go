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

func fileSize(t testing.TB, p string) int64 {
	fi, err := os.Stat(p)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestWindowLine: a window's line reads back as written, roots with spaces, quotes, newlines
// and bytes that are not UTF-8 included; lines cut short or altered are no window.
func TestWindowLine(t *testing.T) {
	for _, w := range []AgentWindow{
		{ID: "0123abcd", Start: 1796137453931551782, End: 0, PID: 4196, PIDStart: 2781341, Roots: []string{"/w", "/a b/\"c\"\n", "/\xff\\x"}},
		{ID: "e1", Start: 5, End: 9},
		{ID: "e2", End: 7},
	} {
		line := encodeWindow(w)
		got, ok := decodeWindow(line[:len(line)-1])
		if !ok || !reflect.DeepEqual(got, w) {
			t.Errorf("%q read back as %+v, %v; want %+v", line, got, ok, w)
		}
		for i := 1; i < len(line)-1; i++ {
			if cut, ok := decodeWindow(line[:i]); ok && !reflect.DeepEqual(cut, w) && len(cut.Roots) == len(w.Roots) {
				t.Errorf("%q cut at %d read as a window: %+v", line, i, cut)
			}
		}
	}
	for _, bad := range []string{"", "x id 1", "b id", "b id x 0 0 0", "e id 1 2", "b \"q 1 0 0 0", "b id 1 0 0 0 \"/unterminated", "b id 1 0 0 0 /unquoted"} {
		if w, ok := decodeWindow([]byte(bad)); ok {
			t.Errorf("%q read as a window: %+v", bad, w)
		}
	}
}

// TestWindowsCutLine: a last line without its newline (a write cut short) is not read.
func TestWindowsCutLine(t *testing.T) {
	dir := t.TempDir()
	full := encodeWindow(AgentWindow{ID: "a", Start: 100, End: 123456, Roots: []string{"/w"}})
	cut := encodeWindow(AgentWindow{ID: "b", Start: 200, End: 987654, Roots: []string{"/w"}})
	if err := os.WriteFile(filepath.Join(dir, windowsName), append(full, cut[:len(cut)-4]...), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Windows(dir, Options{}, 1)
	if err != nil || len(got) != 1 || got[0].ID != "a" || got[0].End != 123456 {
		t.Errorf("read %+v, %v; want window a alone", got, err)
	}
	// What is appended next is read, the cut line still not.
	if err := WindowBegin(dir, Options{}, AgentWindow{ID: "c", Start: 300, Roots: []string{"/w"}}); err != nil {
		t.Fatal(err)
	}
	if err := WindowEnd(dir, Options{}, "c", 400); err != nil {
		t.Fatal(err)
	}
	got, err = Windows(dir, Options{}, 1)
	if err != nil || len(got) != 2 || got[1].ID != "c" || got[1].End != 400 {
		t.Errorf("after appends, read %+v, %v; want windows a and c", got, err)
	}
}

// BenchmarkWindows reads a windows file just under the size that merges it.
func BenchmarkWindows(b *testing.B) {
	dir := b.TempDir()
	for i := 1; fileSize(b, filepath.Join(dir, windowsName)) < windowsCompactAt-200; i++ {
		w := AgentWindow{ID: fmt.Sprintf("%016x", i), Start: int64(i) * 1e12, Roots: []string{"/home/user/src/project", "/home/user/.claude", "/tmp"}, PID: 1234, PIDStart: 99}
		if err := WindowBegin(dir, Options{}, w); err != nil {
			b.Fatal(err)
		}
		if err := WindowEnd(dir, Options{}, w.ID, w.Start+5e11); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := Windows(dir, Options{}, 1); err != nil {
			b.Fatal(err)
		}
	}
}
