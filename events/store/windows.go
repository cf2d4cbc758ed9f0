package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
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

// Bounds of the windows file: past windowsCompactAt bytes (≈ 150 runs), a reader merges its
// closed windows into at most windowsKept.
const (
	windowsCompactAt = 16 << 10
	windowsKept      = 64
	maxWindowRoots   = 64
)

// A window is a line of space-separated fields, read far more often than written (at every
// run's end, ≈ 0.1 µs a line against ≈ 1.5 µs for JSON): "b ID START END PID PIDSTART ROOT…"
// (each root quoted as Go quotes strings), or a run's end alone, "e ID END".

// encodeWindow is w's line: a begin when it has a start, else an end.
func encodeWindow(w AgentWindow) []byte {
	if w.Start == 0 {
		return fmt.Appendf(nil, "e %s %d\n", w.ID, w.End)
	}
	b := fmt.Appendf(nil, "b %s %d %d %d %d", w.ID, w.Start, w.End, w.PID, w.PIDStart)
	for _, r := range w.Roots {
		b = strconv.AppendQuote(append(b, ' '), r)
	}
	return append(b, '\n')
}

// decodeWindow reads a line of encodeWindow; a line cut short or not agentrun's is not one.
func decodeWindow(line []byte) (AgentWindow, bool) {
	var w AgentWindow
	rest := string(line)
	field := func() string {
		f, r, _ := strings.Cut(rest, " ")
		rest = r
		return f
	}
	num := func() int64 {
		n, err := strconv.ParseInt(field(), 10, 64)
		if err != nil {
			w.ID = ""
		}
		return n
	}
	kind := field()
	w.ID = field()
	if strings.ContainsAny(w.ID, "\"\\") {
		return w, false
	}
	switch kind {
	case "e":
		w.End = num()
		return w, w.ID != "" && rest == ""
	case "b":
		w.Start, w.End = num(), num()
		w.PID = int(num())
		w.PIDStart = uint64(num())
	default:
		return w, false
	}
	for rest != "" {
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return w, false
		}
		r, _ := strconv.Unquote(q)
		w.Roots = append(w.Roots, r)
		rest = strings.TrimPrefix(rest[len(q):], " ")
	}
	return w, w.ID != "" && w.Start != 0
}

// AgentWindow is one run's window: from Start to End (Unix nanoseconds, the file system's
// clock), the agent could write beneath Roots. End is 0 while the run goes on; a run whose
// agentrun is gone without an end (PID and PIDStart no longer name a live process) is closed
// by the next reader at the time it reads.
type AgentWindow struct {
	ID       string
	Start    int64
	End      int64
	Roots    []string
	PID      int
	PIDStart uint64
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
	// A newline first: a line an earlier write left cut short (a full disk) ends there,
	// alone, and is not read, instead of taking this one with it.
	data := append([]byte{'\n'}, encodeWindow(w)...)
	if len(data) >= maxJournalLine {
		return fmt.Errorf("agent windows: run %s's line is %d bytes", w.ID, len(data))
	}
	if err := prepareDir(dir, opts); err != nil {
		return fmt.Errorf("agent windows in %s: %w", dir, err)
	}
	if _, err := appendJournal(filepath.Join(dir, windowsName), data, opts.Owner); err != nil {
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
	sc.Split(wholeLines)
	for sc.Scan() {
		w, ok := decodeWindow(sc.Bytes())
		if !ok {
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

// wholeLines splits as bufio.ScanLines does, without the last line when no newline ends it:
// a write cut short (a full disk) could read as a window with a shorter number.
func wholeLines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), nil, nil // dropped
	}
	return 0, nil, nil
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
		buf = append(buf, encodeWindow(w)...)
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
