package launcher

import (
	"errors"
	"os"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/platform/safefs"
	"github.com/agentrun/agentrun/profiles"
)

// quarantineSuffix marks a file the agent created or changed that could run a program
// outside the sandbox, moved aside after the run.
const quarantineSuffix = ".agentrun-quarantined"

// missingProtected lists the protected paths, inside the workspace or the home, that do not
// exist when the agent starts. The sandbox cannot make a path read-only before it exists,
// so a path the agent creates there (git hooks after `git init`, .claude/settings.json with
// hooks) could run outside the sandbox later; quarantine moves such paths aside once the
// agent is done.
func (a *afterRun) missingProtected(pol *profiles.Policy) []string {
	var out []string
	for _, r := range pol.Filesystem.Protect {
		if profiles.IsPattern(r.Path) {
			continue
		}
		root, rel, ok := a.rootOf(r.Path)
		if !ok {
			continue // outside every write root agentrun checks: the agent cannot create it
		}
		if _, err := root.Lstat(rel); errors.Is(err, os.ErrNotExist) {
			out = append(out, r.Path)
		}
	}
	return out
}

// quarantine moves each missing protected path that now exists to
// PATH.agentrun-quarantined (or PATH.agentrun-quarantined.N), nothing deleted, and tells
// the user. A path reached through a link the agent made is not followed: the link itself
// is moved aside instead, which leaves whatever it points to untouched.
func (a *afterRun) quarantine() {
	for _, p := range a.missing {
		root, rel, _ := a.rootOf(p)
		_, err := root.Lstat(rel)
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue
		case errors.Is(err, safefs.ErrUnsafePath):
			link := firstLink(root, rel)
			if link == "" {
				a.warnf("the agent made protected path %s reachable only through a link; left it as it is: review it before running anything that reads it", display.Escape(p))
				continue
			}
			dst, err := a.moveAside(root, link)
			if err != nil {
				a.warnf("the agent made %s a symbolic link on the way to protected path %s, and moving the link aside failed: %v; remove the link before running anything that reads it", display.Escape(root.Path()+"/"+link), display.Escape(p), err)
				continue
			}
			a.notef("the agent made %s a symbolic link on the way to protected path %s; moved the link to %s, and left what it points to alone", display.Escape(root.Path()+"/"+link), display.Escape(p), display.Escape(root.Path()+"/"+dst))
			continue
		case err != nil:
			a.warnf("the agent may have created protected path %s, and checking it failed: %v; review it before running anything that reads it", display.Escape(p), err)
			continue
		}
		dst, err := a.moveAside(root, rel)
		if err != nil {
			a.warnf("the agent created protected path %s, and moving it aside failed: %v; review it before running anything that reads it", display.Escape(p), err)
			continue
		}
		a.notef("the agent created protected path %s; moved it to %s (review it, then rename it back if you want it)", display.Escape(p), display.Escape(root.Path()+"/"+dst))
	}
}
