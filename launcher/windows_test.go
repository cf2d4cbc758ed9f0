package launcher

import (
	"io"
	"reflect"
	"testing"

	"github.com/agentrun/agentrun/events/store"
)

func TestWindowRoots(t *testing.T) {
	got := windowRoots("/w", []string{"/w", "/home/u/.claude", "/home/u/.cache/**", "/home/u/.npm/*.json", "relative", "/t/[ab]x"})
	want := []string{"/w", "/home/u/.claude", "/home/u/.cache", "/home/u/.npm", "/t"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("windowRoots = %q, want %q", got, want)
	}
}

// TestEndWindow: the windows of earlier runs whose roots meet the workspace are read, a run
// still going on up to now; other runs' and this run's are not; this run's end is written.
func TestEndWindow(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dir, opts, err := store.UserDir()
	if err != nil {
		t.Fatal(err)
	}
	r := makeTree(t, "f")
	for _, w := range []store.AgentWindow{
		{ID: "above", Start: 10, Roots: []string{"/"}},
		{ID: "beneath", Start: 30, Roots: []string{"/elsewhere", r.Path() + "/sub"}},
		{ID: "apart", Start: 50, Roots: []string{r.Path() + "-other"}},
	} {
		if err := store.WindowBegin(dir, opts, w); err != nil {
			t.Fatal(err)
		}
	}
	for id, end := range map[string]int64{"above": 20, "apart": 60} {
		if err := store.WindowEnd(dir, opts, id, end); err != nil {
			t.Fatal(err)
		}
	}
	a := &afterRun{ws: r, stderr: io.Discard, start: 100, win: agentWindows{id: "this", roots: []string{r.Path()}}}
	a.endWindow()
	if a.win.loaded || len(a.win.spans) != 0 {
		t.Fatalf("the windows were read before a question")
	}
	if a.inEarlierWindow(5) {
		t.Errorf("inEarlierWindow(5) = true, want false")
	}
	// "beneath" has no live process: the reader ends it at its own time.
	if len(a.win.spans) != 2 || a.win.spans[0] != [2]int64{10, 20} || a.win.spans[1][0] != 30 || a.win.spans[1][1] < 100 {
		t.Fatalf("spans %v, want [10 20] and [30 now]", a.win.spans)
	}
	for ct, want := range map[int64]bool{9: false, 10: true, 20: true, 25: false, 30: true, 55: true, 99: true} {
		if a.inEarlierWindow(ct) != want {
			t.Errorf("inWindow(%d) = %v, want %v", ct, !want, want)
		}
	}
	ws, err := store.Windows(dir, opts, 200)
	if err != nil {
		t.Fatal(err)
	}
	var this []store.AgentWindow
	for _, w := range ws {
		if w.ID == "this" {
			this = append(this, w)
		}
	}
	if len(this) != 1 || this[0].Start != 100 || this[0].End < 100 {
		t.Errorf("this run's window recorded as %+v, want one from 100 to now", this)
	}
}
