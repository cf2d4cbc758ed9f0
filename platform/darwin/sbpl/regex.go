package sbpl

import (
	"fmt"
	"strings"

	"github.com/agentrun/agentrun/profiles"
)

// The regular expressions a pattern rule becomes. SBPL has no glob: a rule whose path holds
// * or ** matches with (regex …), whose dialect is POSIX extended regular expressions as
// Apple's AppleMatch reads them (Apple publishes no grammar; the profiles of Codex, Gemini
// CLI and Anthropic's sandbox-runtime use ^, $, [^/], *, +, (…|…) and \-escapes, and
// nothing else is written here). Every expression is anchored at both ends and also covers
// everything beneath what it matches, as the policy's rules do: PATH(/.*)?
//
//	*   within a name    [^/]*
//	**  any depth        a whole element: zero or more elements, (/[^/]+)* in place of /**;
//	                     at the end, everything beneath
//	!(a|b) (deny only)   [^/]+ here, and a second expression with (a|b) here that the
//	                     rule excludes with (require-not …): every name but a and b
//
// Every other character is a literal: the ones ERE reads as syntax are escaped with \, which
// POSIX and Go's regexp read alike (the tests compile each expression with Go's regexp and
// match paths against it).

// regexMeta are the characters that are syntax in a POSIX extended regular expression.
const regexMeta = `\.+*?()|[]{}^$`

// quoteRegex escapes s so that it matches itself.
func quoteRegex(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(regexMeta, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// patternRegex turns an expanded rule path holding wildcards into the anchored expression
// that matches the paths the rule covers. Negation elements !(…) become [^/]+; negations
// lists, for each of them, the expression that matches when that element is one of its
// exceptions (the rule then requires that none of them match).
func patternRegex(p string) (re string, negations []string, err error) {
	els := strings.Split(strings.TrimPrefix(p, "/"), "/")
	type part struct {
		text string // the element's expression, with its leading /
		alts string // for a negation: the expression of its exceptions, with its leading /
	}
	parts := make([]part, 0, len(els))
	for i, el := range els {
		switch {
		case el == "**" && i == len(els)-1:
			parts = append(parts, part{text: "(/.*)?"})
		case el == "**":
			parts = append(parts, part{text: "(/[^/]+)*"})
		case strings.Contains(el, "**"):
			return "", nil, fmt.Errorf("** must be a whole path element (%q)", el)
		case strings.HasPrefix(el, "!("):
			alts, err := negationRegex(el)
			if err != nil {
				return "", nil, err
			}
			parts = append(parts, part{text: "/[^/]+", alts: "/" + alts})
		default:
			parts = append(parts, part{text: "/" + elementRegex(el)})
		}
	}
	join := func(neg int) string {
		var b strings.Builder
		b.WriteByte('^')
		n := 0
		for _, pt := range parts {
			if pt.alts != "" {
				if n == neg {
					b.WriteString(pt.alts)
				} else {
					b.WriteString(pt.text)
				}
				n++
				continue
			}
			b.WriteString(pt.text)
		}
		if els[len(els)-1] != "**" {
			b.WriteString("(/.*)?")
		}
		b.WriteByte('$')
		return b.String()
	}
	re = join(-1)
	n := 0
	for _, pt := range parts {
		if pt.alts != "" {
			negations = append(negations, join(n))
			n++
		}
	}
	return re, negations, nil
}

// elementRegex is the expression of one path element: * within the name, the rest literal.
func elementRegex(el string) string {
	parts := strings.Split(el, "*")
	for i, s := range parts {
		parts[i] = quoteRegex(s)
	}
	return strings.Join(parts, "[^/]*")
}

// negationRegex is the expression matching one of the exceptions of a negation element
// !(a|b|…): each alternative as filepath.Match reads it, with * and ? and \ escapes. A
// character class [...] is refused: translating filepath.Match's classes to AppleMatch's,
// whose bracket syntax Apple does not document, is not worth a silent mismatch.
func negationRegex(el string) (string, error) {
	inner := strings.TrimSuffix(strings.TrimPrefix(el, "!("), ")")
	alts := strings.Split(inner, "|")
	out := make([]string, len(alts))
	for i, a := range alts {
		var b strings.Builder
		rs := []rune(a)
		for j := 0; j < len(rs); j++ {
			switch c := rs[j]; c {
			case '*':
				b.WriteString("[^/]*")
			case '?':
				b.WriteString("[^/]")
			case '[':
				return "", fmt.Errorf("the exception %q of %s holds a character class [...], which agentrun does not translate to SBPL's regular expressions; list the names instead", a, el)
			case '\\':
				if j+1 < len(rs) {
					j++
					b.WriteString(quoteRegex(string(rs[j])))
				}
			default:
				b.WriteString(quoteRegex(string(c)))
			}
		}
		out[i] = b.String()
	}
	return "(" + strings.Join(out, "|") + ")", nil
}

// isPattern reports whether a rule path needs a regular expression.
func isPattern(p string) bool { return profiles.IsPattern(p) }
