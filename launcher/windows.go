package launcher

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/agentrun/agentrun/events/store"
)

// agentWindows is what the checks after a run know of when agents could write: this run's
// window, recorded for later runs, and the earlier runs' windows that meet this workspace.
// An agent can prepare in one run what a later one moves into place, keeping its times (a
// git directory without a HEAD, completed later; hooks renamed onto a repository's); a file
// whose change time lies in any agent's window is taken for the agent's, not the user's.
type agentWindows struct {
	id     string
	roots  []string // where this run's agent may write: the workspace and the write rules
	end    int64    // when this run's agent was gone (endWindow)
	loaded bool     // spans were read (loadWindows)
	spans  [][2]int64
}

// windowRoots is where the plan lets the agent write: the workspace and the paths of its write
// rules, each cut before its first wildcard, without repeats.
func windowRoots(workspace string, write []string) []string {
	roots := []string{workspace}
	for _, p := range write {
		if i := strings.IndexAny(p, "*?["); i >= 0 {
			p = filepath.Dir(p[:i] + "x")
		}
		if p = filepath.Clean(p); filepath.IsAbs(p) && !slices.Contains(roots, p) {
			roots = append(roots, p)
		}
	}
	return roots
}

// beginWindow records, once, that this run's agent may write from the run's start on.
func (a *afterRun) beginWindow() {
	a.windowOnce.Do(func() {
		dir, opts, err := store.UserDir()
		if err == nil {
			pidStart, _ := store.ProcessStart(os.Getpid())
			err = store.WindowBegin(dir, opts, store.AgentWindow{ID: a.win.id, Start: a.start, Roots: a.win.roots, PID: os.Getpid(), PIDStart: pidStart})
		}
		a.windowErr = err
	})
}

// endWindow records this run's end: its agent is gone. It says when it cannot be recorded.
func (a *afterRun) endWindow() {
	a.beginWindow()
	a.win.end = time.Now().UnixNano() // the precise clock: not before any change time set so far
	dir, opts, err := store.UserDir()
	if err == nil && a.windowErr == nil {
		err = store.WindowEnd(dir, opts, a.win.id, a.win.end)
	}
	if err == nil {
		err = a.windowErr
	}
	if err != nil {
		a.warnf("could not record when this run's agent could write (%v): a later run will take what it left for yours", err)
	}
}

// inEarlierWindow reports whether the change time ct lies in an earlier agent's window that
// meets the workspace. The windows are read at the first question: a run that finds nothing
// older than itself to judge does not read them.
func (a *afterRun) inEarlierWindow(ct int64) bool {
	if !a.win.loaded {
		a.win.loaded = true
		a.loadWindows()
	}
	for _, s := range a.win.spans {
		if s[0] <= ct && ct <= s[1] {
			return true
		}
	}
	return false
}

// loadWindows reads the earlier runs' windows that meet the workspace; a run still going on,
// alongside this one, until this one's end. It says when they cannot be read: the checks then
// know only this run's changes.
func (a *afterRun) loadWindows() {
	if a.win.id == "" || a.ws == nil {
		return
	}
	end := a.win.end
	if end == 0 {
		end = time.Now().UnixNano()
	}
	dir, opts, err := store.UserDir()
	var ws []store.AgentWindow
	if err == nil {
		ws, err = store.Windows(dir, opts, end)
	}
	if err != nil {
		a.warnf("could not read when earlier runs' agents could write (%v): only this run's changes are checked", err)
	}
	for _, w := range ws {
		if w.ID == a.win.id || !w.Overlaps(a.ws.Path()) {
			continue
		}
		stop := w.End
		if stop == 0 {
			stop = end
		}
		a.win.spans = append(a.win.spans, [2]int64{w.Start, stop})
	}
}
