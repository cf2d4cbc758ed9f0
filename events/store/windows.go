package store

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// The agents' windows: when each enforce-mode run's agent could write, and beneath which
// roots. A file whose change time lies in one was written by an agent, whatever happened to
// its name since; the checks after a run treat it as the run's own (launcher's afterRun). An
// agent can prepare in one run what a later run moves into place (a git directory without a
// HEAD, completed later; a directory of hooks renamed onto a repository's hooks), and a
// rename keeps the times of what is inside. The file is never pruned: merged, its windows
// only grow, which errs toward checking more.
const windowsName = "agent-windows"

// Bounds of the windows file: past windowsCompactAt bytes, a reader merges its closed windows
// into at most windowsKept.
const (
	windowsCompactAt = 64 << 10
	windowsKept      = 64
	maxWindowRoots   = 64
)

// AgentWindow is one run's window: from Start to End (Unix nanoseconds, the file system's
// clock), the agent could write beneath Roots. End is 0 while the run goes on; a run whose
// agentrun is gone without an end (PID and PIDStart no longer name a live process) is closed
// by the next reader at the time it reads.
type AgentWindow struct {
	ID       string   `json:"id"`
	Start    int64    `json:"start,omitempty"`
	End      int64    `json:"end,omitempty"`
	Roots    []string `json:"roots,omitempty"`
	PID      int      `json:"pid,omitempty"`
	PIDStart uint64   `json:"pid_start,omitempty"`
}

// Overlaps reports whether the window's roots and dir (an absolute path) share a path: one
// lies at or beneath the other.
func (w AgentWindow) Overlaps(dir string) bool {
	for _, r := range w.Roots {
		if within(dir, r) || within(r, dir) {
			return true
		}
	}
	return false
}

// within reports whether p is dir or beneath it.
func within(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// WindowBegin records that w's agent may write from w.Start on.
func WindowBegin(dir string, opts Options, w AgentWindow) error {
	w.End = 0
	return appendWindow(dir, opts, w)
}

// WindowEnd records that run id's agent could no longer write after end.
func WindowEnd(dir string, opts Options, id string, end int64) error {
	return appendWindow(dir, opts, AgentWindow{ID: id, End: end})
}

func appendWindow(dir string, opts Options, w AgentWindow) error {
	if w.ID == "" {
		return errors.New("agent windows: no run ID")
	}
	data, err := json.Marshal(w)
	if err != nil {
		return err
	}
	if len(data) >= maxJournalLine {
		return fmt.Errorf("agent windows: run %s's line is %d bytes", w.ID, len(data))
	}
	if err := prepareDir(dir, opts.Owner); err != nil {
		return fmt.Errorf("agent windows in %s: %w", dir, err)
	}
	if _, err := appendJournal(filepath.Join(dir, windowsName), append(data, '\n'), opts.Owner); err != nil {
		return fmt.Errorf("agent windows in %s: %w", dir, err)
	}
	return nil
}

// Windows reads the agents' windows recorded in dir, each run's begin and end paired; now
// ends those whose agentrun is gone (the end is written too, so that later readers agree).
// A file grown past windowsCompactAt is merged in place. No file is no windows.
func Windows(dir string, opts Options, now int64) ([]AgentWindow, error) {
	p := filepath.Join(dir, windowsName)
	ws, size, err := readWindows(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for i := range ws {
		if ws[i].End == 0 && !processAlive(ws[i].PID, ws[i].PIDStart) {
			ws[i].End = now
			_ = WindowEnd(dir, opts, ws[i].ID, now)
		}
	}
	if size > windowsCompactAt {
		if err := compactWindows(p, opts.Owner, now); err != nil {
			return ws, fmt.Errorf("merging the agent windows in %s: %w", dir, err)
		}
	}
	return ws, nil
}

// readWindows reads and pairs the windows of the file at p, and gives its size.
func readWindows(p string) ([]AgentWindow, int64, error) {
	f, err := openWindows(p)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	ws, err := decodeWindows(f)
	fi, serr := f.Stat()
	if serr != nil {
		return nil, 0, serr
	}
	return ws, fi.Size(), err
}

// decodeWindows pairs the lines of f by run: a begin gives the start, roots and process, an
// end the end. A line that does not decode (a write cut short) is skipped; an end whose begin
// is not there (a begin that failed) is no window.
func decodeWindows(f *os.File) ([]AgentWindow, error) {
	byID := map[string]int{}
	var ws []AgentWindow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxJournalLine+1)
	for sc.Scan() {
		var w AgentWindow
		if line := strings.TrimSpace(sc.Text()); line == "" || json.Unmarshal([]byte(line), &w) != nil || w.ID == "" {
			continue
		}
		i, ok := byID[w.ID]
		if !ok {
			byID[w.ID], i = len(ws), len(ws)
			ws = append(ws, AgentWindow{ID: w.ID})
		}
		if w.Start != 0 {
			ws[i].Start, ws[i].Roots, ws[i].PID, ws[i].PIDStart = w.Start, w.Roots, w.PID, w.PIDStart
		}
		if w.End != 0 && (ws[i].End == 0 || w.End > ws[i].End) {
			ws[i].End = w.End
		}
	}
	out := ws[:0]
	for _, w := range ws {
		if w.Start != 0 {
			out = append(out, w)
		}
	}
	return out, sc.Err()
}

// compactWindows rewrites the file at p with its closed windows merged into at most
// windowsKept, each spanning those it took in, with all their roots; open windows are kept
// as they are. It holds the file's exclusive lock while it reads, so no append is lost: an
// append waits, then finds the new file in place and writes there.
func compactWindows(p string, owner *Owner, now int64) error {
	f, err := openWindowsExclusive(p)
	if err != nil {
		return err
	}
	defer f.Close()
	ws, err := decodeWindows(f)
	if err != nil {
		return err
	}
	var open, closed []AgentWindow
	for _, w := range ws {
		if w.End == 0 && processAlive(w.PID, w.PIDStart) {
			open = append(open, w)
			continue
		}
		if w.End == 0 {
			w.End = now
		}
		closed = append(closed, w)
	}
	var buf []byte
	for _, w := range append(mergeWindows(closed, windowsKept), open...) {
		b, err := json.Marshal(w)
		if err != nil {
			return err
		}
		buf = append(append(buf, b...), '\n')
	}
	return replaceFile(p, buf, owner)
}

// mergeWindows merges closed windows, sorted by start, until at most keep are left: each time
// the two neighbours with the smallest gap between them become one, from the first's start to
// the later end, with both's roots. Every instant and root of the input stays covered.
func mergeWindows(ws []AgentWindow, keep int) []AgentWindow {
	sort.Slice(ws, func(i, j int) bool { return ws[i].Start < ws[j].Start })
	for len(ws) > keep {
		best := 0
		for i := 1; i+1 < len(ws); i++ {
			if ws[i+1].Start-ws[i].End < ws[best+1].Start-ws[best].End {
				best = i
			}
		}
		a, b := ws[best], ws[best+1]
		m := AgentWindow{ID: a.ID, Start: a.Start, End: max(a.End, b.End), Roots: mergeRoots(a.Roots, b.Roots)}
		ws = append(append(ws[:best:best], m), ws[best+2:]...)
	}
	return ws
}

// mergeRoots is the roots of a and b without those beneath another; past maxWindowRoots they
// are replaced by their common ancestors, at worst "/".
func mergeRoots(a, b []string) []string {
	all := append(append([]string(nil), a...), b...)
	sort.Strings(all)
	var out []string
	for _, r := range all {
		if len(out) > 0 && within(r, out[len(out)-1]) {
			continue
		}
		out = append(out, r)
	}
	for len(out) > maxWindowRoots {
		out = mergeRoots(parents(out), nil)
	}
	return out
}

// parents is each root's parent directory.
func parents(roots []string) []string {
	out := make([]string, len(roots))
	for i, r := range roots {
		out[i] = path.Dir(r)
	}
	return out
}
