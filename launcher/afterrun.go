package launcher

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/platform/safefs"
	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/userdirs"
)

// afterRun is what agentrun checks once the agent is done, prepared before it starts: the
// workspace and the home held open (paths are resolved beneath them, never through a link
// the agent planted), the protected paths that did not exist, the reviewed files as they
// were, and the moment the run began (git repositories whose control files changed after
// it are checked).
type afterRun struct {
	roots []*safefs.Root // longest path first
	id    *safefs.Identity
	ws    *safefs.Root
	home  string // the invoker's home directory
	start int64  // coarse real-time clock at launch, Unix nanoseconds
	win   agentWindows
	// windowOnce records this run's window once (beginWindow); windowErr is why it could not.
	windowOnce sync.Once
	windowErr  error
	// includes counts the git config includes followed, up to maxIncludes, and
	// includesStopped says the bound was reached (and said).
	includes        int
	includesStopped bool
	missing         []string
	review          []reviewed
	stdin           io.Reader
	stderr          io.Writer
}

// prepareAfterRun opens the roots and takes the launch-time state. In audit mode nothing is
// checked: audit leaves the user's files as the agent left them.
func prepareAfterRun(plan *Plan, runID string, inv userdirs.Invoker, stdio Stdio) *afterRun {
	a := &afterRun{stdin: stdio.Stdin, stderr: stdio.Stderr, start: coarseNow(), home: plan.env.Home}
	if plan.Policy.Mode == profiles.ModeAudit {
		return a
	}
	var write []string
	for _, r := range plan.Policy.Filesystem.Write {
		write = append(write, r.Path)
	}
	a.win = agentWindows{id: runID, roots: windowRoots(plan.Workspace, write)}
	a.id = inv.FileIdentity()
	for _, p := range []string{plan.Workspace, plan.env.Home} {
		if !filepath.IsAbs(p) || p == "/" {
			continue
		}
		r, err := safefs.OpenRoot(p)
		if err != nil {
			fmt.Fprintf(a.stderr, "agentrun: WARNING: cannot hold %s open to check it after the run: %v\n", p, err)
			continue
		}
		if p == plan.Workspace {
			a.ws = r
		}
		a.roots = append(a.roots, r)
	}
	if len(a.roots) == 2 && len(a.roots[1].Path()) > len(a.roots[0].Path()) {
		a.roots[0], a.roots[1] = a.roots[1], a.roots[0]
	}
	a.missing = a.missingProtected(plan.Policy)
	a.review = a.snapshotReview(plan.Policy)
	return a
}

// rootOf is the held root that path lies in and path relative to it.
func (a *afterRun) rootOf(path string) (*safefs.Root, string, bool) {
	for _, r := range a.roots {
		if path == r.Path() {
			return r, ".", true
		}
		if rel, ok := strings.CutPrefix(path, r.Path()+"/"); ok {
			return r, rel, true
		}
	}
	return nil, "", false
}

// finish runs the checks and closes the roots.
func (a *afterRun) finish() {
	defer func() {
		for _, r := range a.roots {
			r.Close()
		}
	}()
	if a.win.id != "" {
		a.endWindow()
	}
	if len(a.roots) == 0 {
		return
	}
	a.quarantine()
	a.holdBack()
	if a.ws != nil {
		a.scanGit()
	}
}

// warnf prints one warning line. Callers pass agent-controlled strings through
// display.Escape; errors, which often name such a path, are escaped here.
func (a *afterRun) warnf(format string, args ...any) {
	fmt.Fprintf(a.stderr, "agentrun: WARNING: "+format+"\n", escapeErrors(args)...)
}

// notef prints one line, as warnf does.
func (a *afterRun) notef(format string, args ...any) {
	fmt.Fprintf(a.stderr, "agentrun: "+format+"\n", escapeErrors(args)...)
}

// escapeErrors replaces each error among args with its escaped text.
func escapeErrors(args []any) []any {
	out := make([]any, len(args))
	for i, v := range args {
		if err, ok := v.(error); ok {
			v = display.Escape(err.Error())
		}
		out[i] = v
	}
	return out
}

// moveAside renames rel to rel.agentrun-quarantined (or .N) beneath r as the user, and
// returns the new name.
func (a *afterRun) moveAside(r *safefs.Root, rel string) (string, error) {
	dst := rel + quarantineSuffix
	unlocked := false
	for n := 2; ; n++ {
		err := r.Rename(rel, dst, a.id)
		if errors.Is(err, fs.ErrPermission) && !unlocked {
			// The agent may have taken the write permission of a directory of the user's
			// to keep what it planted there.
			unlocked = true
			if a.unlock(r, path.Dir(rel), "to move "+path.Base(rel)+" aside") {
				err = r.Rename(rel, dst, a.id)
			}
		}
		if err == nil {
			return dst, nil
		}
		if _, serr := r.Lstat(dst); serr != nil || n > 100 {
			return "", err
		}
		dst = fmt.Sprintf("%s%s.%d", rel, quarantineSuffix, n)
	}
}

// unlock gives dir (beneath r), a directory of the user's whose permissions the agent took,
// its owner's permissions back (safefs.Root.UnlockDir) and says so and why; it reports whether
// it did.
func (a *afterRun) unlock(r *safefs.Root, dir, why string) bool {
	ok, _ := r.UnlockDir(dir, a.id)
	if ok {
		a.notef("gave %s back its owner's permissions, which the agent had taken, %s", display.Escape(r.Path()+"/"+dir), display.Escape(why))
	}
	return ok
}

// firstLink is the first element of rel (a path beneath r) that is a symbolic link, or "".
func firstLink(r *safefs.Root, rel string) string {
	parts := strings.Split(rel, "/")
	for i := range parts {
		sub := strings.Join(parts[:i+1], "/")
		fi, err := r.Lstat(sub)
		if err != nil {
			return ""
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return sub
		}
	}
	return ""
}
