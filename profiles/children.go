package profiles

import "strings"

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
// path below dir only by naming that path or one between: it has more elements than dir,
// and its first ones, as a pattern of their own, cover dir (a literal path below dir, or
// literal DIR/** of one; a pattern whose elements before the last match dir's).
func mayNameBelow(pattern, dir string, children bool) bool {
	if base, ok := strings.CutSuffix(pattern, "/**"); ok && !IsPattern(base) {
		pattern = base
	}
	n := 1 // dir's elements, as strings.Split counts them
	if dir != "/" {
		n = strings.Count(dir, "/") + 1
	}
	pe := strings.Split(pattern, "/")
	if len(pe) <= n || children && len(pe) != n+1 {
		return false
	}
	return dir == "/" || PatternCovers(strings.Join(pe[:n], "/"), dir)
}
