package profiles

import (
	"fmt"
	pathpkg "path"
	"strings"
)

// unmakeableWrites refuses the write rules no backend can honour as written: a wildcard in
// the last name (`~/.claude.json.tmp.*`) names files the agent makes, but where no write rule
// makes their directory writable, only the files that match when the agent starts can be
// given (each bound on its own) and a new one can never be made — the rule would compile to
// nothing for exactly the files it was written for.
func unmakeableWrites(write []PathRule) ErrorList {
	var errs ErrorList
	for _, r := range write {
		if !MakesNothing(r.Path, write) {
			continue
		}
		errs = append(errs, &Error{Pos: r.Origin, Msg: fmt.Sprintf(
			"filesystem.write %s: the agent makes the files this names, and it can make files only in a directory a write rule names; %s is not one, so the rule would allow nothing new. Leave the rule out, or name the directory under filesystem.write if the agent may change everything in it (a program that saves a file as a temporary file beside it, then a rename, needs its directory writable; Claude Code's CLAUDE_CONFIG_DIR moves its state into one)",
			r.Pattern, patternDir(r.Pattern))})
	}
	return errs
}

// MakesNothing reports whether a write rule for path (expanded) has a wildcard in its last
// name while no rule of write makes the directory it is in writable: it can give the agent
// only files that already match, never one it makes (see unmakeableWrites).
func MakesNothing(path string, write []PathRule) bool {
	dir, last := pathpkg.Split(path)
	dir = pathpkg.Clean(dir)
	return IsPattern(last) && !IsPattern(dir) && !writableDir(write, dir)
}

// writableDir reports whether a write rule without wildcards names dir or a directory above it.
func writableDir(write []PathRule, dir string) bool {
	for _, w := range write {
		if !IsPattern(w.Path) && Within(dir, w.Path) {
			return true
		}
	}
	return false
}

// patternDir is the directory of a pattern as written (~/x.tmp.* → ~).
func patternDir(pattern string) string {
	i := strings.LastIndexByte(strings.TrimSuffix(pattern, "/"), '/')
	if i <= 0 {
		return "/"
	}
	return pattern[:i]
}
