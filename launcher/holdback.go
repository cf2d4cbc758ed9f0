package launcher

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/platform/safefs"
	"github.com/agentrun/agentrun/profiles"
)

// reviewMaxSize bounds a reviewed file agentrun reads (~/.claude.json grows with history).
const reviewMaxSize = 64 << 20

// reviewed is a filesystem.review file as it was at launch.
type reviewed struct {
	path    string
	root    *safefs.Root
	rel     string
	existed bool
	data    []byte
}

// snapshotReview reads the review files before the agent starts. One that cannot be read
// safely (reached through a link the user made, too large) is left out with a warning.
func (a *afterRun) snapshotReview(pol *profiles.Policy) []reviewed {
	var out []reviewed
	for _, r := range pol.Filesystem.Review {
		root, rel, ok := a.rootOf(r.Path)
		if !ok || rel == "." {
			a.warnf("%s is to be reviewed but lies outside the workspace and the home; changes the agent makes to it are not checked", display.Escape(r.Path))
			continue
		}
		b, err := root.ReadFile(rel, reviewMaxSize)
		switch {
		case errors.Is(err, os.ErrNotExist):
			out = append(out, reviewed{path: r.Path, root: root, rel: rel})
		case err != nil:
			a.warnf("cannot read %s to review it after the run (%v); changes the agent makes to it are not checked", display.Escape(r.Path), err)
		default:
			out = append(out, reviewed{path: r.Path, root: root, rel: rel, existed: true, data: b})
		}
	}
	return out
}

// holdBack compares each reviewed file with its launch-time state. A change to keys that
// start programs is shown and applied only if the user accepts it at a terminal; otherwise
// those keys are put back as they were (the agent's version is kept beside the file) and
// every other change stays. Something that is no longer a regular JSON file is put back
// whole.
func (a *afterRun) holdBack() {
	for _, rv := range a.review {
		a.holdBackFile(rv)
	}
}

func (a *afterRun) holdBackFile(rv reviewed) {
	fi, err := rv.root.Lstat(rv.rel)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return // removed: that starts nothing
	case errors.Is(err, safefs.ErrUnsafePath):
		if link := firstLink(rv.root, rv.rel); link != "" {
			a.asideIn(rv.root, link, "a symbolic link on the way to "+rv.path)
		}
		return
	case err != nil:
		a.warnf("checking %s after the run: %v; review it before starting the agent unconfined", display.Escape(rv.path), err)
		return
	case !fi.Mode().IsRegular():
		a.asideIn(rv.root, rv.rel, "something other than a regular file at "+rv.path)
		return
	}
	now, err := rv.root.ReadFile(rv.rel, reviewMaxSize)
	if err != nil {
		a.asideIn(rv.root, rv.rel, "a file agentrun could not read back ("+err.Error()+")")
		return
	}
	if rv.existed && bytes.Equal(now, rv.data) {
		return
	}
	newDoc, err := parseJSONDoc(now)
	if err != nil {
		a.restoreWhole(rv, now, "it is no longer JSON agentrun can read ("+err.Error()+")")
		return
	}
	var oldDoc any = &jsonObject{vals: map[string]any{}}
	if rv.existed {
		if d, err := parseJSONDoc(rv.data); err == nil {
			oldDoc = d
		}
	}
	if _, ok := newDoc.(*jsonObject); !ok {
		a.restoreWhole(rv, now, "it is no longer a JSON object")
		return
	}
	merged, changes := holdBackKeys(oldDoc, newDoc)
	if len(changes) == 0 {
		return
	}
	a.notef("the agent changed keys that start programs in %s:", display.Escape(rv.path))
	for _, c := range changes {
		before := c.Before
		if before == "" {
			before = "(absent)"
		}
		a.notef("  %s: %s -> %s", display.Escape(c.Path), display.Escape(truncate(before, 200)), display.Escape(truncate(c.After, 200)))
	}
	if a.accepted() {
		a.notef("applied as the agent left it")
		return
	}
	out, err := encodeJSONDoc(merged)
	if err != nil {
		a.restoreWhole(rv, now, "agentrun could not write it back ("+err.Error()+")")
		return
	}
	kept, err := a.keepCopy(rv, now)
	if err != nil {
		a.warnf("keeping the agent's version of %s: %v; %s is left as the agent wrote it: remove those keys before starting the agent unconfined", display.Escape(rv.path), err, display.Escape(rv.path))
		return
	}
	if err := rv.root.WriteFile(rv.rel, out, 0o600, a.id); err != nil {
		a.warnf("putting back the keys that start programs in %s: %v; remove them before starting the agent unconfined", display.Escape(rv.path), err)
		return
	}
	a.notef("held back: those keys are as they were at launch, the agent's other changes stay (its version is %s)", display.Escape(kept))
}

// accepted asks the user, when there is one at a terminal, whether to apply a change that
// starts programs. Without a terminal the answer is no.
func (a *afterRun) accepted() bool {
	f, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		a.notef("not applied: agentrun is not at a terminal to ask")
		return false
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		a.notef("not applied: cannot open the terminal to ask (%v)", err)
		return false
	}
	defer tty.Close()
	fmt.Fprint(a.stderr, "agentrun: apply these changes? Type yes to apply, anything else keeps them out: ")
	line, _ := bufio.NewReader(tty).ReadString('\n')
	return strings.EqualFold(strings.TrimSpace(line), "yes")
}

// keepCopy writes the agent's version beside the file and returns its path.
func (a *afterRun) keepCopy(rv reviewed, data []byte) (string, error) {
	dst := rv.rel + quarantineSuffix
	for n := 2; n < 100; n++ {
		if _, err := rv.root.Lstat(dst); errors.Is(err, os.ErrNotExist) {
			break
		}
		dst = fmt.Sprintf("%s%s.%d", rv.rel, quarantineSuffix, n)
	}
	if err := rv.root.WriteFile(dst, data, 0o600, a.id); err != nil {
		return "", err
	}
	return rv.root.Path() + "/" + dst, nil
}

// restoreWhole puts back the launch-time file (or moves the agent's new one aside).
func (a *afterRun) restoreWhole(rv reviewed, now []byte, why string) {
	if !rv.existed {
		a.asideIn(rv.root, rv.rel, "a file to review where "+why)
		return
	}
	kept, err := a.keepCopy(rv, now)
	if err == nil {
		err = rv.root.WriteFile(rv.rel, rv.data, 0o600, a.id)
	}
	if err != nil {
		a.warnf("the agent changed %s and %s; putting it back failed: %v; review it before starting the agent unconfined", display.Escape(rv.path), why, err)
		return
	}
	a.notef("the agent changed %s and %s; put back the launch-time version (the agent's is %s)", display.Escape(rv.path), why, display.Escape(kept))
}

// asideIn moves rel beneath root aside and says why.
func (a *afterRun) asideIn(root *safefs.Root, rel, why string) {
	p := root.Path() + "/" + rel
	dst, err := a.moveAside(root, rel)
	if err != nil {
		a.warnf("found %s; moving %s aside failed: %v; remove it before starting the agent unconfined", display.Escape(why), display.Escape(p), err)
		return
	}
	a.notef("found %s; moved %s to %s", display.Escape(why), display.Escape(p), display.Escape(root.Path()+"/"+dst))
}
