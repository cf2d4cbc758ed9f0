package profiles

import "strings"

// FileChecker answers CheckFile for one policy with each rule list indexed, for a caller that
// asks of every access (the Linux file judge): a list's rules that cover exactly what lies
// within one directory — most of a profile's ≈ 200 — are found by looking the path and each
// directory above it up in a map, the others are asked in turn, as CheckFile asks every rule.
// Its answers are CheckFile's (TestFileCheckerIsCheckFile); the policy must not change after
// NewFileChecker.
type FileChecker struct {
	lists [numRuleLists]ruleIndex
}

// ruleIndex is one rule list, indexed.
type ruleIndex struct {
	rules  []PathRule
	covers func(r PathRule, path string) bool
	// within maps a directory to the first rule that covers exactly the paths within it
	// (Within): a literal pattern, DIR/** with a literal DIR, an exec.allow's directory.
	within map[string]int
	// others are the indexes of the remaining rules, in order.
	others []int
}

// NewFileChecker indexes pol's rule lists.
func NewFileChecker(pol *Policy) *FileChecker {
	c := &FileChecker{}
	for l := range numRuleLists {
		rules, covers := pol.rules(l)
		x := ruleIndex{rules: rules, covers: covers, within: make(map[string]int)}
		for i, r := range rules {
			dir, ok := withinDir(r.Path)
			if l == listExecAllow {
				dir, ok = GlobBase(r.Path), true
			}
			if !ok || !indexable(dir) {
				x.others = append(x.others, i)
			} else if _, seen := x.within[dir]; !seen {
				x.within[dir] = i
			}
		}
		c.lists[l] = x
	}
	return c
}

// CheckFile is pol.CheckFile(path, a).
func (c *FileChecker) CheckFile(path string, a Access) AccessDecision {
	return decideFile(path, a, c.first, true)
}

// Allows is CheckFile(path, a).Allow, without the decision's words: for a caller that asks
// only whether, on a path where every call waits for the answer.
func (c *FileChecker) Allows(path string, a Access) bool {
	return decideFile(path, a, c.first, false).Allow
}

// first returns the first rule of list l that covers path: the lowest index among those
// found under path's directories and the first of the others that covers it.
func (c *FileChecker) first(l ruleList, path string) (PathRule, bool) {
	x := &c.lists[l]
	best := -1
	if len(x.within) > 0 {
		// path itself, then each directory above it but the root: the dirs d with Within(path, d).
		for p := path; ; {
			if i, ok := x.within[p]; ok && (best < 0 || i < best) {
				best = i
			}
			j := strings.LastIndexByte(p, '/')
			if j <= 0 {
				break
			}
			p = p[:j]
		}
	}
	for _, i := range x.others {
		if best >= 0 && i > best {
			break
		}
		if x.covers(x.rules[i], path) {
			best = i
			break
		}
	}
	if best < 0 {
		return PathRule{}, false
	}
	return x.rules[best], true
}

// withinDir is the directory whose paths (it and those within it) an expanded rule pattern
// covers, where that is all it covers (PatternCovers: a pattern without wildcards, or DIR/**
// with none in DIR).
func withinDir(pattern string) (string, bool) {
	if base, ok := strings.CutSuffix(pattern, "/**"); ok && !IsPattern(base) {
		return base, true
	}
	return pattern, !IsPattern(pattern)
}

// indexable says whether the paths Within dir are exactly dir and those that, cut at a slash
// after dir, are dir: an absolute path other than the root, without a trailing slash. The
// root, "", relative and odd ones are asked in turn.
func indexable(dir string) bool {
	return len(dir) > 1 && dir[0] == '/' && dir[len(dir)-1] != '/'
}
