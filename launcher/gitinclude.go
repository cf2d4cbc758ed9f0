package launcher

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/platform/safefs"
)

// maxIncludeDepth is how deep git follows includes (config.c MAX_INCLUDE_DEPTH), and the
// checks with it; maxIncludes bounds the includes followed after one run (each config may name
// many); maxLinks is the kernel's bound on links in one path (MAXSYMLINKS).
const (
	maxIncludeDepth = 10
	maxIncludes     = 1000
	maxLinks        = 40
)

// hostGitConfigs are the configs git reads besides a repository's own, with home the
// invoker's: an include in one of them may name a file in the workspace.
func hostGitConfigs(home string) []string {
	xdg := os.Getenv("XDG_CONFIG_HOME")
	if xdg == "" {
		xdg = filepath.Join(home, ".config")
	}
	return []string{"/etc/gitconfig", filepath.Join(home, ".gitconfig"), filepath.Join(xdg, "git", "config")}
}

// checkHostIncludes checks the workspace files that the host's git configs include.
func (a *afterRun) checkHostIncludes() {
	for _, p := range hostGitConfigs(a.home) {
		a.followHostConfig(p, 0)
	}
}

// followHostConfig checks what the config p outside the workspace includes, depth levels of
// includes down; a file that is not there, or not a regular file, includes nothing.
func (a *afterRun) followHostConfig(p string, depth int) {
	src, err := safefs.ReadHostFile(p, gitConfigMaxSize)
	if err != nil {
		return
	}
	entries, err := parseGitConfig(src)
	if err != nil {
		return // git refuses it too
	}
	a.followIncludes(filepath.Dir(p), entries, ".", depth)
}

// followIncludes checks the files that entries (of a config in the directory base, an
// absolute path) include: one in the workspace is checked as checkConfigFile says, one outside
// is followed for what it includes in turn.
func (a *afterRun) followIncludes(base string, entries []gitEntry, gitdir string, depth int) {
	if depth >= maxIncludeDepth {
		return
	}
	for _, e := range entries {
		if !isInclude(e) {
			continue
		}
		if a.includes == maxIncludes {
			if !a.includesStopped {
				a.includesStopped = true
				a.warnf("stopped following the files git configs include after %d: check what the configs of %s include before using git there", maxIncludes, display.Escape(a.ws.Path()))
			}
			return
		}
		a.includes++
		p := strings.TrimSpace(e.Value)
		switch {
		case p == "":
			continue
		case p == "~" || strings.HasPrefix(p, "~/"):
			p = a.home + p[1:]
		case strings.HasPrefix(p, "~"):
			continue // another user's home: not the agent's to write
		case !path.IsAbs(p):
			p = path.Join(base, p)
		}
		p = path.Clean(p)
		if rel, ok := a.inWorkspace(p); ok {
			a.checkConfigFile(rel, gitdir, depth+1)
		} else {
			a.followHostConfig(p, depth+1)
		}
	}
}

// inWorkspace is p relative to the workspace when p is in it, named so or through links
// outside it (a link in your home to the project); links inside it are followed then too,
// which change times still judge: what the file holds is the agent's if it changed in an
// agent's window.
func (a *afterRun) inWorkspace(p string) (string, bool) {
	if rel, ok := strings.CutPrefix(p, a.ws.Path()+"/"); ok {
		return rel, true
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", false
	}
	return strings.CutPrefix(real, a.ws.Path()+"/")
}

// isInclude reports whether e includes another file (include.path, includeIf.COND.path).
func isInclude(e gitEntry) bool {
	return e.Name == "path" && (e.Section == "include" && e.Subsection == "" || e.Section == "includeif" && e.Subsection != "")
}

// checkConfigFile checks rel, a git config in the workspace (a repository's own, or one that
// another includes, depth levels down), reached as git reaches it, through links: a link on
// the way made during the run is moved aside; the file, when the run made or changed it, is
// cleaned of keys that run programs (gitdir is the repository's, for the keys that depend on
// it); an older one is followed for what it includes.
func (a *afterRun) checkConfigFile(rel, gitdir string, depth int) {
	target, links, inside := a.resolveInWorkspace(rel)
	for _, l := range links {
		if a.changed(l) {
			a.aside(l, "a symbolic link on the way to a git config")
			return
		}
	}
	if !inside {
		if !path.IsAbs(target) {
			target = path.Join(a.ws.Path(), target)
		}
		a.followHostConfig(target, depth)
		return
	}
	if fi, err := a.ws.Lstat(target); err != nil || !fi.Mode().IsRegular() {
		return
	}
	if a.changed(target) {
		a.cleanConfig(gitdir, target)
		return
	}
	src, err := a.ws.ReadFile(target, gitConfigMaxSize)
	if err != nil {
		return
	}
	if entries, err := parseGitConfig(src); err == nil {
		a.followIncludes(path.Join(a.ws.Path(), path.Dir(target)), entries, gitdir, depth)
	}
}

// resolveInWorkspace follows the links on rel's way beneath the workspace, as the kernel does
// for git, without ever opening through one: the path it leads to (relative, or absolute when
// a link leads out of the workspace, with inside false), and the links it went through.
func (a *afterRun) resolveInWorkspace(rel string) (string, []string, bool) {
	var links []string
	queue := strings.Split(rel, "/")
	done := "."
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			if done == "." {
				return path.Join(path.Dir(a.ws.Path()), strings.Join(queue, "/")), links, false
			}
			done = path.Dir(done)
			continue
		}
		next := path.Join(done, name)
		fi, err := a.ws.Lstat(next)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			done = next
			continue
		}
		links = append(links, next)
		target, err := a.ws.Readlink(next)
		if err != nil || len(links) > maxLinks {
			return next, links, true // git cannot follow it either
		}
		rest := append(strings.Split(target, "/"), queue...)
		if path.IsAbs(target) {
			t := path.Clean(target)
			if t != a.ws.Path() && !strings.HasPrefix(t, a.ws.Path()+"/") {
				return path.Join(t, strings.Join(queue, "/")), links, false
			}
			rest = append(strings.Split(strings.TrimPrefix(t, a.ws.Path()), "/"), queue...)
			done = "."
		}
		queue = rest
	}
	return done, links, true
}
