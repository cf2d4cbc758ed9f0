package profiles

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Negation elements: "everything but" inside a deny rule. A whole path element written
// !(alt1|alt2|...), as bash's extglob spells it, matches every name in its directory, dotfiles
// included, that none of the alternatives matches; each alternative is one element as
// path.Match reads it on every OS (*, ?, [...], \ escapes). ~/.ssh/!(known_hosts|config|*.pub) denies
// every private key whatever its name, and the exception lives in the deny rule itself, so
// no other rule can un-deny anything ("deny wins" stays true).

// negOpen starts a negation element.
const negOpen = "!("

// IsPattern reports whether an expanded rule path holds a wildcard: *, ** or a negation
// element !(...).
func IsPattern(p string) bool { return strings.Contains(p, "*") || strings.Contains(p, negOpen) }

// HasNegation reports whether a rule path holds a negation element !(...).
func HasNegation(p string) bool { return strings.Contains(p, negOpen) }

// wildcardIndex is the index of the first wildcard in p (a * or the ! of a negation), or -1.
func wildcardIndex(p string) int {
	i, j := strings.IndexByte(p, '*'), strings.Index(p, negOpen)
	switch {
	case i < 0:
		return j
	case j < 0 || i < j:
		return i
	}
	return j
}

// elementIsPattern reports whether one path element is matched rather than compared.
func elementIsPattern(el string) bool {
	return strings.Contains(el, "*") || strings.HasPrefix(el, negOpen)
}

// MatchElement reports whether name, one path element, matches el, one element of a rule
// pattern: a negation !(a|b) matches what neither a nor b matches; ** matches as * does; any
// other element as path.Match has it (on every OS: \ escapes, as on Linux). A malformed
// element matches nothing.
func MatchElement(el, name string) bool {
	if strings.HasPrefix(el, negOpen) {
		alts, err := negationAlternatives(el)
		if err != nil || name == "" {
			return false
		}
		for _, a := range alts {
			if ok, _ := path.Match(a, name); ok {
				return false
			}
		}
		return true
	}
	if el == "**" {
		el = "*"
	}
	ok, err := path.Match(el, name)
	return err == nil && ok
}

// negationAlternatives splits a negation element !(a|b|c) into its alternatives and checks
// them. The error says what to write instead.
func negationAlternatives(el string) ([]string, error) {
	inner, ok := strings.CutPrefix(el, negOpen)
	if !ok {
		return nil, fmt.Errorf("%q is not a negation element !(...)", el)
	}
	end := strings.IndexAny(inner, "()")
	switch {
	case end < 0:
		return nil, fmt.Errorf("%q: the ( of !( is never closed; write !(name1|name2) as one whole path element", el)
	case inner[end] == '(':
		return nil, fmt.Errorf("%q: !(...) cannot hold ( or another !(...); list the names to keep, separated by |, as in !(known_hosts|config|*.pub)", el)
	case end != len(inner)-1:
		return nil, fmt.Errorf("%q: !(...) must be a whole path element, with nothing after its ); write one rule per name instead", el)
	}
	alts := strings.Split(inner[:end], "|")
	for _, a := range alts {
		switch {
		case a == "":
			return nil, fmt.Errorf("%q has an empty alternative; name each exception, separated by single |, as in !(known_hosts|config|*.pub)", el)
		case strings.Contains(a, "**"):
			return nil, fmt.Errorf("%q: ** means any depth, which !(...) cannot; its alternatives are names in one directory, matched with * ? and [...]", el)
		}
		if _, err := path.Match(a, ""); err != nil {
			return nil, fmt.Errorf("%q: the alternative %q is not a valid name pattern (*, ? and [...], as filepath.Match reads them): %w", el, a, err)
		}
	}
	return alts, nil
}

// checkNegations checks every negation in rest, the part of a path pattern after its
// variable: each must be a whole path element with well-formed alternatives and no /
// inside. It runs before rest is split at its slashes, so that a / inside !(...) is
// reported as such.
func checkNegations(raw, rest string) error {
	for i := 0; i < len(rest); {
		j := strings.Index(rest[i:], negOpen)
		if j < 0 {
			return nil
		}
		start := i + j
		if start > 0 && rest[start-1] != '/' {
			return fmt.Errorf("%q: !(...) must be a whole path element, as in ~/.ssh/!(known_hosts|config|*.pub); it cannot follow other characters in a name", raw)
		}
		end := start + len(negOpen)
		for end < len(rest) && rest[end] != ')' && rest[end] != '/' {
			end++
		}
		switch {
		case end == len(rest):
			return fmt.Errorf("%q: the ( of !( is never closed; write !(name1|name2) as one whole path element", raw)
		case rest[end] == '/':
			return fmt.Errorf("%q: !(...) holds names in one directory and cannot contain /; write one deny rule per directory", raw)
		}
		el := rest[start:]
		if k := strings.IndexByte(el, '/'); k >= 0 {
			el = el[:k]
		}
		if _, err := negationAlternatives(el); err != nil {
			return fmt.Errorf("%q: %w", raw, err)
		}
		i = start + len(el)
	}
	return nil
}

// Glob returns the existing paths an expanded rule pattern names, as the launcher binds them:
// a path without wildcards as it is (whether or not it exists), DIR/** as DIR, and otherwise
// the existing paths whose every element matches (MatchElement; ** as one element). The
// result is sorted and written with / as policy paths are (on Windows: C:/Users/ada/.ssh/id),
// so that the pattern covers every path it gave (PatternCovers).
func Glob(pattern string) []string { return GlobOn(pattern, ReadDirNames) }

// ReadDirNames lists the names in a directory of this host.
func ReadDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// GlobOn is Glob with the negation elements' directories listed by list (a fixed host in
// tests); a literal element after a negation exists when list names it in its directory.
// Patterns without a negation are expanded on this host, as filepath.Glob does.
func GlobOn(pattern string, list func(dir string) ([]string, error)) []string {
	if !IsPattern(pattern) {
		return []string{pattern}
	}
	if base, ok := strings.CutSuffix(pattern, "/**"); ok && !IsPattern(base) {
		return []string{base}
	}
	if !HasNegation(pattern) {
		matches, err := filepath.Glob(strings.ReplaceAll(pattern, "**", "*"))
		if err != nil {
			return nil
		}
		if filepath.Separator != '/' { // Windows writes what it found with \
			for i, m := range matches {
				matches[i] = filepath.ToSlash(m)
			}
		}
		return matches
	}
	if !isAbs(pattern) {
		return nil
	}
	base := GlobBase(pattern) // literal: needs no listing
	paths := []string{base}
	for _, el := range strings.Split(strings.TrimPrefix(pattern[len(base):], "/"), "/") {
		var next []string
		for _, dir := range paths {
			names, err := list(dir)
			if err != nil {
				continue // not a directory, or unreadable: nothing matches beneath it
			}
			for _, n := range names {
				if elementIsPattern(el) && MatchElement(el, n) || n == el {
					next = append(next, path.Join(dir, n))
				}
			}
		}
		paths = next
	}
	sort.Strings(paths)
	return paths
}
