package profiles

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Variables a path may start with. ~ is the same as $HOME.
var pathVars = []string{"HOME", "WORKSPACE", "TMPDIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"}

// pathPattern is a path as written, split into its leading variable (empty for an absolute
// path) and the cleaned rest ("" or starting with "/").
type pathPattern struct {
	Var  string
	Rest string
}

// key identifies the pattern independently of spelling (~/x and $HOME/x are the same).
func (p pathPattern) key() string { return "$" + p.Var + p.Rest }

// String writes the pattern in its canonical spelling.
func (p pathPattern) String() string {
	switch p.Var {
	case "":
		if p.Rest == "" {
			return "/"
		}
		return p.Rest
	case "HOME":
		return "~" + p.Rest
	default:
		return "$" + p.Var + p.Rest
	}
}

// hasGlob reports whether the pattern contains *, ** or a negation !(...).
func (p pathPattern) hasGlob() bool { return IsPattern(p.Rest) }

// under reports whether p is q or inside q, judged by their spelling (q without globs).
func (p pathPattern) under(q pathPattern) bool {
	if p.Var != q.Var || q.hasGlob() {
		return false
	}
	return q.Rest == "" || strings.HasPrefix(p.Rest, q.Rest) && (len(p.Rest) == len(q.Rest) || p.Rest[len(q.Rest)] == '/')
}

// parsePath checks a path pattern as written in a profile. The error message says what to
// write instead.
func parsePath(raw string) (pathPattern, error) {
	if raw == "" {
		return pathPattern{}, fmt.Errorf("empty path; write an absolute path such as /usr/share, or one starting with ~/ or $WORKSPACE/")
	}
	for _, r := range raw {
		if r < 0x20 || r == 0x7f {
			return pathPattern{}, fmt.Errorf("path %q contains a control character; remove it", raw)
		}
	}
	var p pathPattern
	rest := raw
	switch {
	case rest == "~" || strings.HasPrefix(rest, "~/"):
		p.Var, rest = "HOME", rest[1:]
	case strings.HasPrefix(rest, "~"):
		return p, fmt.Errorf("%q: ~user is not supported; write the absolute path, e.g. /home/%s", raw, strings.TrimPrefix(rest, "~"))
	case strings.HasPrefix(rest, "$"):
		name, after := splitVar(rest[1:])
		for _, v := range pathVars {
			if !knownVar(name) && strings.HasPrefix(name, v) && !strings.HasPrefix(rest[1:], "{") {
				return p, fmt.Errorf("%q: unknown variable $%s; write a / after $%s, e.g. $%s/%s", raw, name, v, v, rest[1+len(v):])
			}
		}
		if !knownVar(name) {
			return p, fmt.Errorf("%q: unknown variable $%s; a path may start with ~ or $%s", raw, name, strings.Join(pathVars, ", $"))
		}
		if after != "" && after[0] != '/' {
			return p, fmt.Errorf("%q: write a / after $%s, e.g. $%s/%s", raw, name, name, after)
		}
		p.Var, rest = name, after
	case strings.HasPrefix(rest, "/"):
	default:
		if slices.Contains(strings.Split(raw, "/"), "..") {
			// $WORKSPACE/.. would be refused too: only the place it leads to can be named.
			return p, fmt.Errorf("%q is a relative path; write the absolute path it leads to, or start it with ~/ or $WORKSPACE/ without \"..\"", raw)
		}
		return p, fmt.Errorf("%q is a relative path; write an absolute path, or start it with ~/ or $WORKSPACE/ (e.g. \"$WORKSPACE/%s\")", raw, strings.TrimPrefix(raw, "./"))
	}
	if strings.Contains(rest, "$") {
		return p, fmt.Errorf("%q: variables are expanded only at the start of a path; write the rest literally", raw)
	}
	if err := checkNegations(raw, rest); err != nil {
		return p, err
	}
	var parts []string
	for _, c := range strings.Split(rest, "/") {
		switch {
		case c == "" || c == ".":
			continue
		case strings.HasPrefix(c, negOpen):
			// Checked above; ?, [...] and * are its alternatives' business.
		case strings.ContainsAny(c, "?[]{}"):
			return p, fmt.Errorf("%q: ?, [...] and {...} patterns are not supported; use * (within a name) or ** (any depth), or list each path (in a deny rule, !(a|b) matches every name but a and b)", raw)
		case c == "..":
			return p, fmt.Errorf("%q contains \"..\"; write the path it leads to", raw)
		case strings.Contains(c, "**") && c != "**":
			return p, fmt.Errorf("%q: ** must be a whole path element, as in /usr/lib/**/bin; use * within a name", raw)
		}
		parts = append(parts, c)
	}
	if len(parts) > 0 {
		p.Rest = "/" + path.Join(parts...)
	}
	return p, nil
}

// splitVar splits "NAME/rest" or "{NAME}/rest" into NAME and "/rest".
func splitVar(s string) (name, rest string) {
	if strings.HasPrefix(s, "{") {
		if i := strings.IndexByte(s, '}'); i > 0 {
			return s[1:i], s[i+1:]
		}
		return s, ""
	}
	i := 0
	for i < len(s) && (s[i] == '_' || s[i] >= 'A' && s[i] <= 'Z' || s[i] >= 'a' && s[i] <= 'z' || i > 0 && s[i] >= '0' && s[i] <= '9') {
		i++
	}
	return s[:i], s[i:]
}

func knownVar(name string) bool {
	for _, v := range pathVars {
		if v == name {
			return true
		}
	}
	return false
}
