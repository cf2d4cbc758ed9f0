package launcher

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/platform/safefs"
)

// Bounds of the walk for git repositories after a run.
const (
	maxUnreadWarnings = 5       // directories named that could not be listed; the rest are counted
	gitUnlockRounds   = 8       // directories within directories unlocked (UnlockDir) and walked
	gitScanMaxDirs    = 200_000 // directories visited, breadth first: shallow repositories first
	gitConfigMaxSize  = 1 << 20
)

// gitSkip are directories inside a git directory that hold data, never programs or config.
var gitSkip = map[string]bool{"objects": true, "refs": true, "logs": true, "lfs": true, "rr-cache": true, "packed-refs": true}

// gitControl are the files of a git directory whose change marks it as changed by the run.
var gitControl = []string{"config", "config.worktree", "commondir", "gitdir", "hooks"}

// scanGit finds the git repositories in the workspace that the run created or changed and
// takes out of them what would run a program when the user next uses git there: keys that
// run programs or include files (the config is rewritten without them, the original kept
// beside it), hooks (moved aside), and links or pointer files that lead git outside the
// workspace (moved aside). A repository whose control files are older than the run is the
// user's and is left alone.
func (a *afterRun) scanGit() {
	found, unread := a.findGit()
	for i, u := range unread {
		if i == maxUnreadWarnings {
			a.warnf("and %d more directories of %s could not be searched for git repositories", len(unread)-i, display.Escape(a.ws.Path()))
			break
		}
		a.warnf("could not search %s for git repositories the agent made (%v): check what is beneath it before using git there", display.Escape(a.ws.Path()+"/"+u.rel), u.err)
	}
	a.checkHostIncludes()
	for _, f := range a.pointedTo(found) {
		switch f.kind {
		case foundGitDir:
			a.checkGitDir(f.rel)
		case foundGitLink:
			a.checkGitLink(f.rel)
		case foundGitFile:
			a.checkGitFile(f.rel)
		}
	}
}

// findGit walks the workspace for scanGit, within gitScanMaxDirs directories. A directory of
// the user's that the walk may not list (the agent can make one execute-only: it hides what is
// beneath it from a walk, not from a user who enters it by name) gets its owner's permissions
// back, said, and is walked in turn, at most gitUnlockRounds deep; the
// directories still unread are returned.
func (a *afterRun) findGit() ([]gitFound, []unreadDir) {
	var found []gitFound
	var left []unreadDir
	from, budget := []string{"."}, gitScanMaxDirs
	for round := 0; len(from) > 0; round++ {
		f, stopped, unread, visited := walkGit(a.ws, from, budget, gitScanWorkers())
		found, budget, from = append(found, f...), budget-visited, nil
		if stopped != "" {
			a.warnf("stopped looking for git repositories the agent made after %d directories of %s; repositories deeper than %s were not checked", gitScanMaxDirs, display.Escape(a.ws.Path()), display.Escape(stopped))
			break
		}
		for _, u := range unread {
			if round < gitUnlockRounds && errors.Is(u.err, fs.ErrPermission) {
				if a.unlock(a.ws, u.rel, "to search it for git repositories") {
					from = append(from, u.rel)
					continue
				}
			}
			left = append(left, u)
		}
	}
	sortFound(found)
	return found, left
}

// pointedTo is found with the git directories inside the workspace that its pointers lead to
// (a .git file's "gitdir:", a git directory's commondir), old pointers among them, where the
// walk did not reach them: it passes over the data directories of .git directories, where a
// pointer can lead.
func (a *afterRun) pointedTo(found []gitFound) []gitFound {
	seen := make(map[string]bool, len(found))
	for _, f := range found {
		seen[f.rel] = true
	}
	for i := 0; i < len(found) && i < gitScanMaxDirs; i++ {
		var base, file, prefix string
		switch f := found[i]; f.kind {
		case foundGitFile:
			base, file, prefix = path.Dir(f.rel), f.rel, "gitdir:"
		case foundGitDir:
			base, file = f.rel, path.Join(f.rel, "commondir")
		default:
			continue
		}
		b, err := a.ws.ReadFile(file, 4096)
		if err != nil {
			continue
		}
		target, ok := strings.CutPrefix(strings.TrimSpace(string(b)), prefix)
		if !ok {
			continue
		}
		rel, inside := a.pointerTarget(base, strings.TrimSpace(target))
		if !inside || seen[rel] {
			continue
		}
		if fi, err := a.ws.Lstat(rel); err == nil && fi.IsDir() {
			seen[rel] = true
			found = append(found, gitFound{rel, foundGitDir})
		}
	}
	sortFound(found)
	return found
}

// changed reports whether rel (beneath the workspace) changed during the run, or last changed
// while an earlier run's agent could write there (see agentWindows).
func (a *afterRun) changed(rel string) bool {
	ct, err := a.ws.Ctime(rel)
	return err == nil && (ct >= a.start || a.inEarlierWindow(ct))
}

// checkGitDir checks one git directory (dir is relative to the workspace).
func (a *afterRun) checkGitDir(dir string) {
	touched := false
	for _, c := range gitControl {
		if a.changed(path.Join(dir, c)) {
			touched = true
		}
	}
	a.checkHooks(dir)
	if touched {
		a.cleanGitDir(dir)
	}
	// A config of the user's may be a link to, or include, a file the agent can write.
	for _, c := range []string{"config", "config.worktree"} {
		a.checkConfigFile(path.Join(dir, c), dir, 0)
	}
}

// cleanGitDir takes out of the git directory dir, which the run changed, the links among its
// control files, the keys of its configs that run programs, and a commondir that points away.
func (a *afterRun) cleanGitDir(dir string) {
	for _, c := range gitControl {
		rel := path.Join(dir, c)
		fi, err := a.ws.Lstat(rel)
		if err == nil && fi.Mode()&os.ModeSymlink != 0 {
			a.aside(rel, "a symbolic link git would follow")
		}
	}
	for _, c := range []string{"config", "config.worktree"} {
		a.cleanConfig(dir, path.Join(dir, c))
	}
	if a.changed(path.Join(dir, "commondir")) {
		b, err := a.ws.ReadFile(path.Join(dir, "commondir"), 4096)
		if err == nil {
			target := strings.TrimSpace(string(b))
			if why := a.pointsAway(dir, target); why != "" {
				a.aside(path.Join(dir, "commondir"), why)
			}
		}
	}
}

// checkHooks moves aside the hooks made during the run, and every hook of a hooks directory
// the run changed: a directory renamed onto hooks keeps its files' older times (a tree made in
// an earlier run, where no repository named it). Git runs a hook by its exact name, so a
// renamed one never runs; the samples git init writes are left.
func (a *afterRun) checkHooks(dir string) {
	hooks := path.Join(dir, "hooks")
	ents, err := a.ws.ReadDir(hooks)
	if err != nil {
		return
	}
	dirChanged := a.changed(hooks)
	for _, e := range ents {
		rel := path.Join(hooks, e.Name())
		if strings.HasSuffix(e.Name(), ".sample") && e.Type().IsRegular() || strings.Contains(e.Name(), quarantineSuffix) {
			continue
		}
		switch {
		case a.changed(rel):
			a.aside(rel, "a git hook made during the run")
		case dirChanged:
			a.aside(rel, "a git hook in a hooks directory the run changed")
		}
	}
}

// cleanConfig rewrites a config file without the keys that run programs, keeping the
// original beside it; an unreadable one is moved aside whole.
func (a *afterRun) cleanConfig(gitdir, rel string) {
	src, err := a.ws.ReadFile(rel, gitConfigMaxSize)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return
	case err != nil:
		a.aside(rel, "a git config agentrun could not read ("+err.Error()+")")
		return
	}
	entries, err := parseGitConfig(src)
	if err != nil {
		a.aside(rel, "a git config agentrun could not parse ("+err.Error()+")")
		return
	}
	var drop []gitEntry
	var keys []string
	for _, e := range entries {
		if why := gitProgramKey(e, gitdir); why != "" {
			drop = append(drop, e)
			keys = append(keys, e.Key()+" ("+why+")")
		}
	}
	if len(drop) == 0 {
		return
	}
	dst, err := a.moveAside(a.ws, rel)
	if err != nil {
		a.warnf("the agent set git config keys that run programs in %s: %s; moving it aside failed: %v; remove them before using git there", display.Escape(a.ws.Path()+"/"+rel), display.Escape(strings.Join(keys, ", ")), err)
		return
	}
	if err := a.ws.WriteFile(rel, cleanGitConfig(src, drop), 0o644, a.id); err != nil {
		a.warnf("the agent set git config keys that run programs in %s; the original is in %s, and writing a cleaned one failed: %v", display.Escape(a.ws.Path()+"/"+rel), display.Escape(dst), err)
		return
	}
	a.notef("the agent set git config keys that run programs in %s: %s; removed them (the original is %s)", display.Escape(a.ws.Path()+"/"+rel), display.Escape(strings.Join(keys, ", ")), display.Escape(a.ws.Path()+"/"+dst))
}

// checkGitLink moves aside a .git symbolic link made during the run: git would take
// whatever it points to as the repository.
func (a *afterRun) checkGitLink(rel string) {
	if a.changed(rel) {
		a.aside(rel, "a .git symbolic link made during the run")
	}
}

// checkGitFile checks a "gitdir: PATH" file made or changed during the run: one that leads
// outside the workspace is moved aside (git would run what a config there says).
func (a *afterRun) checkGitFile(rel string) {
	if !a.changed(rel) {
		return
	}
	b, err := a.ws.ReadFile(rel, 4096)
	if err != nil {
		a.aside(rel, "a .git file agentrun could not read")
		return
	}
	target, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir:")
	if !ok {
		return // git does not read it as a pointer
	}
	if why := a.pointsAway(path.Dir(rel), strings.TrimSpace(target)); why != "" {
		a.aside(rel, why)
	}
}

// pointerTarget is where a git pointer (commondir, gitdir:) from base leads, relative to the
// workspace, and whether that is inside it.
func (a *afterRun) pointerTarget(base, target string) (string, bool) {
	if path.IsAbs(target) {
		rel, ok := strings.CutPrefix(path.Clean(target), a.ws.Path()+"/")
		return rel, ok
	}
	rel := path.Join(base, target)
	return rel, rel != ".." && !strings.HasPrefix(rel, "../")
}

// pointsAway says why a git pointer (commondir, gitdir:) from base, relative to the
// workspace, is not to be trusted: it leaves the workspace, or its config runs programs.
func (a *afterRun) pointsAway(base, target string) string {
	if target == "" {
		return ""
	}
	rel, inside := a.pointerTarget(base, target)
	if !inside {
		return "a git pointer to " + target + ", outside the workspace"
	}
	target = rel
	src, err := a.ws.ReadFile(path.Join(target, "config"), gitConfigMaxSize)
	if err != nil {
		if errors.Is(err, safefs.ErrUnsafePath) {
			return "a git pointer through a symbolic link"
		}
		return ""
	}
	entries, err := parseGitConfig(src)
	if err != nil {
		return "a git pointer to a config agentrun cannot parse"
	}
	for _, e := range entries {
		if gitProgramKey(e, target) != "" {
			return "a git pointer to a config with keys that run programs"
		}
	}
	return ""
}

// aside moves rel (beneath the workspace) aside and says why.
func (a *afterRun) aside(rel, why string) {
	p := a.ws.Path() + "/" + rel
	dst, err := a.moveAside(a.ws, rel)
	if err != nil {
		a.warnf("found %s at %s, and moving it aside failed: %v; remove it before using git there", display.Escape(why), display.Escape(p), err)
		return
	}
	a.notef("found %s at %s; moved it to %s", display.Escape(why), display.Escape(p), display.Escape(a.ws.Path()+"/"+dst))
}
