package profiles

import (
	"path"
	"strings"
)

// ChildrenLike reports whether every name directly in the directory dir (an absolute
// canonical path) is judged by the rules that judge dir itself, for reading and writing: no
// rule of the filesystem section names a child of dir without naming dir or a directory
// above it. Audit mode's recorder of reads leans on it: once one file of such a directory is
// judged allowed, the others need not be judged one by one. It may answer false where a
// pattern only might name a child; never true where one does.
func (p *Policy) ChildrenLike(dir string) bool { return p.like(dir, true) }

// SubtreeLike is ChildrenLike for everything beneath dir, at any depth: no rule names a path
// below dir without naming dir or a directory above it.
func (p *Policy) SubtreeLike(dir string) bool { return p.like(dir, false) }

func (p *Policy) like(dir string, children bool) bool {
	fs := p.Filesystem
	for _, rules := range [][]PathRule{fs.Deny, fs.Protect, fs.Write, fs.Read} {
		for _, r := range rules {
			if !PatternCovers(r.Path, dir) && mayNameBelow(r.Path, dir, children) {
				return false
			}
		}
	}
	return true
}

// mayNameBelow reports whether pattern may name a path below dir (only an entry directly in
// it, with children). A pattern that names neither dir nor a directory above it covers a
// path below dir only by naming that path or one between: a literal path (or literal
// DIR/**) below dir, or a pattern of more elements than dir whose first ones match dir's.
func mayNameBelow(pattern, dir string, children bool) bool {
	if base, ok := strings.CutSuffix(pattern, "/**"); ok && !IsPattern(base) {
		pattern = base
	}
	if !IsPattern(pattern) {
		if children {
			return pattern != "/" && path.Dir(pattern) == dir
		}
		return pattern != dir && Within(pattern, dir)
	}
	de := []string{""}
	if dir != "/" {
		de = strings.Split(dir, "/")
	}
	pe := strings.Split(pattern, "/")
	if len(pe) <= len(de) || children && len(pe) != len(de)+1 {
		return false
	}
	for i, el := range de {
		if !MatchElement(strings.ReplaceAll(pe[i], "**", "*"), el) {
			return false
		}
	}
	return true
}
