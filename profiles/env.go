package profiles

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/agentrun/agentrun/userdirs"
)

// Env is what path variables expand to for one launch.
type Env struct {
	Home       string
	Workspace  string
	TmpDir     string
	ConfigHome string // $XDG_CONFIG_HOME
	DataHome   string // $XDG_DATA_HOME
	StateHome  string // $XDG_STATE_HOME
	CacheHome  string // $XDG_CACHE_HOME
	RuntimeDir string // $XDG_RUNTIME_DIR; may be empty

	// Canonical, when set, maps an expanded path to its canonical form (symlinks resolved).
	Canonical func(string) string
}

func (e Env) value(name string) string {
	switch name {
	case "HOME":
		return e.Home
	case "WORKSPACE":
		return e.Workspace
	case "TMPDIR":
		return e.TmpDir
	case "XDG_CONFIG_HOME":
		return e.ConfigHome
	case "XDG_DATA_HOME":
		return e.DataHome
	case "XDG_STATE_HOME":
		return e.StateHome
	case "XDG_CACHE_HOME":
		return e.CacheHome
	case "XDG_RUNTIME_DIR":
		return e.RuntimeDir
	}
	return ""
}

// expand turns a pattern into an absolute path, or says which variable is missing.
func (e Env) expand(p pathPattern) (string, error) {
	base := "/"
	if p.Var != "" {
		base = e.value(p.Var)
		if base == "" {
			return "", fmt.Errorf("$%s is not set in this environment; set it, or remove the rule", p.Var)
		}
		if !isAbs(base) {
			return "", fmt.Errorf("$%s is %q, which is not an absolute path; set it to one", p.Var, base)
		}
	}
	// Policy paths are written with / on every OS (on Windows: C:/Users/ada/.ssh), so that
	// patterns match the same way everywhere; the backends write them natively at the edge.
	out := cleanPath(base + p.Rest)
	if e.Canonical != nil {
		out = filepath.ToSlash(e.Canonical(out))
	}
	return out, nil
}

// EnvFromOS is the Env of a launch for the user whose base directories dirs are (see
// package userdirs, which resolves the XDG variables and the sudo case), with $TMPDIR from
// the process environment (else /tmp). An empty workspace means the current directory.
func EnvFromOS(dirs userdirs.Dirs, workspace string) (Env, error) {
	if dirs.Home == "" {
		return Env{}, fmt.Errorf("finding the home directory: %w (set HOME to an absolute path)", userdirs.ErrNoHome)
	}
	var err error
	if workspace == "" {
		if workspace, err = os.Getwd(); err != nil {
			return Env{}, fmt.Errorf("finding the current directory: %w", err)
		}
	}
	if workspace, err = filepath.Abs(workspace); err != nil {
		return Env{}, fmt.Errorf("finding the workspace: %w", err)
	}
	if fi, err := os.Stat(workspace); err != nil {
		return Env{}, fmt.Errorf("workspace: %w", err)
	} else if !fi.IsDir() {
		return Env{}, fmt.Errorf("workspace %s is not a directory", workspace)
	}
	tmp := os.Getenv("TMPDIR")
	if !filepath.IsAbs(tmp) {
		tmp = "/tmp"
	}
	// Written with / as policy paths are (C:/Users/ada on Windows; unchanged elsewhere), so
	// that the launcher compares them with the rules as they are.
	slash := filepath.ToSlash
	return Env{
		Home:       slash(dirs.Home),
		Workspace:  slash(workspace),
		TmpDir:     slash(tmp),
		ConfigHome: slash(dirs.ConfigHome),
		DataHome:   slash(dirs.DataHome),
		StateHome:  slash(dirs.StateHome),
		CacheHome:  slash(dirs.CacheHome),
		RuntimeDir: slash(dirs.RuntimeDir),
		Canonical:  NewCanonicalizer(),
	}, nil
}

// NewCanonicalizer returns CanonicalPath with a memory of the directories it has resolved,
// for resolving many paths that share their leading directories (one profile's rules): each
// directory is looked at once (one lstat below its resolved parent) rather than once for each
// path beneath it, as filepath.EvalSymlinks on every path would.
func NewCanonicalizer() func(string) string {
	c := canonCache{}
	return func(p string) string { return canonicalPath(p, c.eval) }
}

// canonCache is EvalSymlinks by parts, remembered: a path resolves to its resolved parent
// joined with its last name, unless that name is a symlink, which EvalSymlinks follows.
type canonCache map[string]evalResult

func (c canonCache) eval(p string) (string, error) {
	if r, ok := c[p]; ok {
		return r.path, r.err
	}
	var r evalResult
	parent := filepath.Dir(p)
	switch {
	case parent == p || runtime.GOOS == "windows":
		// The root; and on Windows EvalSymlinks also normalises each name's case and short
		// form, which a name looked at on its own would not get.
		r.path, r.err = filepath.EvalSymlinks(p)
	default:
		dir, err := c.eval(parent)
		if err != nil {
			r.err = err
			break
		}
		q := filepath.Join(dir, filepath.Base(p))
		var fi os.FileInfo
		if fi, r.err = os.Lstat(q); r.err == nil {
			r.path = q
			if fi.Mode()&os.ModeSymlink != 0 {
				r.path, r.err = filepath.EvalSymlinks(q)
			}
		}
	}
	if len(c) >= maxCanonCache { // an agent naming endless directories: start again
		clear(c)
	}
	c[p] = r
	return r.path, r.err
}

// maxCanonCache bounds a canonicalizer's memory of resolved directories.
const maxCanonCache = 4096

type evalResult struct {
	path string
	err  error
}

// CanonicalPath resolves the symlinks of the longest existing leading part of p that holds no
// glob, and keeps the rest as written: a rule about ~/.aws, where ~/.aws links to
// /data/aws, is a rule about /data/aws. A path that does not exist yet keeps its spelling
// below its deepest existing directory. The result is written with / as policy paths are, on
// every OS (on Windows: C:/Users/ada/.aws).
func CanonicalPath(p string) string { return canonicalPath(p, filepath.EvalSymlinks) }

func canonicalPath(p string, evalSymlinks func(string) (string, error)) string {
	fixed, rest := p, ""
	if i := wildcardIndex(p); i >= 0 {
		j := strings.LastIndexByte(p[:i], '/')
		fixed, rest = p[:j], p[j:]
	}
	if fixed == "" {
		fixed = "/"
	}
	for dir, tail := fixed, ""; ; {
		// Any error (missing, not a directory, no permission) means: keep this part as written.
		if resolved, err := evalSymlinks(dir); err == nil {
			out := filepath.ToSlash(filepath.Join(resolved, tail))
			if rest != "" {
				if out == "/" {
					return rest
				}
				return out + rest
			}
			return out
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return p
		}
		tail = filepath.Join(filepath.Base(dir), tail)
		dir = parent
	}
}

// expandSetting expands an env.set value that begins with ~ or a path variable ($HOME,
// $WORKSPACE, $TMPDIR, the XDG directories) followed by / or nothing, as a path rule's path
// (so CLAUDE_CONFIG_DIR: ~/.claude names the user's directory); any other value is literal.
func expandSetting(env Env, value string) (string, error) {
	if !pathValue(value) {
		return value, nil
	}
	p, err := parsePath(value)
	if err != nil {
		return "", err
	}
	if p.hasGlob() {
		return "", fmt.Errorf("%q: a value is one path, without * or !(...)", value)
	}
	base := env.value(p.Var)
	if base == "" || !isAbs(base) {
		return "", fmt.Errorf("$%s is not set to an absolute path in this environment", p.Var)
	}
	return cleanPath(base + p.Rest), nil
}

// pathValue reports whether an env.set value starts with ~ or a path variable.
func pathValue(v string) bool {
	if v == "~" || strings.HasPrefix(v, "~/") {
		return true
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(v, "$"), "/")
	return strings.HasPrefix(v, "$") && knownVar(name)
}

// isAbs reports whether p is an absolute path: the host's kind, or one written in profiles'
// own notation, rooted at / (on Windows, the stand-ins that compile targets resolve profiles
// for before placing them on a Windows host).
func isAbs(p string) bool { return filepath.IsAbs(p) || strings.HasPrefix(p, "/") }

// cleanPath is filepath.Clean written with /, except that a path rooted at / is cleaned as
// a / path on every OS (on Windows filepath would keep //usr, a UNC prefix, and write \).
func cleanPath(p string) string {
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	return filepath.ToSlash(filepath.Clean(p))
}
