package profiles

import (
	"path"
	"strings"
)

// ChildrenLike reports whether every name directly in the directory dir (an absolute
// canonical path) is judged by the rules that judge dir itself, for reading and writing: no rule
// of the filesystem section names a child of dir without naming dir or a directory above
// it. Audit mode's recorder of reads leans on it: once one file of such a directory is
// judged allowed, the others need not be judged one by one. It may answer false where a
// pattern only might name a child; never true where one does.
func (p *Policy) ChildrenLike(dir string) bool {
	fs := p.Filesystem
	for _, rules := range [][]PathRule{fs.Deny, fs.Protect, fs.Write, fs.Read} {
		for _, r := range rules {
			if !PatternCovers(r.Path, dir) && mayNameChild(r.Path, dir) {
				return false
			}
		}
	}
	return true
}

// mayNameChild reports whether pattern may name an entry directly in dir. A pattern that
// names neither dir nor a directory above it covers a child only by naming the child
// itself: a literal path (or literal DIR/**) whose parent is dir, or a pattern of one
// element more than dir whose elements before the last match dir's.
func mayNameChild(pattern, dir string) bool {
	if base, ok := strings.CutSuffix(pattern, "/**"); ok && !IsPattern(base) {
		pattern = base
	}
	if !IsPattern(pattern) {
		return pattern != "/" && path.Dir(pattern) == dir
	}
	de := []string{""}
	if dir != "/" {
		de = strings.Split(dir, "/")
	}
	pe := strings.Split(pattern, "/")
	if len(pe) != len(de)+1 {
		return false
	}
	for i, el := range de {
		if !MatchElement(strings.ReplaceAll(pe[i], "**", "*"), el) {
			return false
		}
	}
	return true
}
