package sbpl

import (
	"fmt"
	"strings"
)

// A tiny reader of the s-expressions SBPL is written in: lists, symbols, numbers, strings
// ("…" with \ escapes), regex literals (#"…", raw) and ; comments. It is what the static
// checker of the tests parses a profile with; it knows nothing of SBPL's meaning.

type sexpr struct {
	list []*sexpr // for a list
	atom string   // a symbol or a number
	str  string   // a string's or regex literal's contents
	kind byte     // '(' list, 'a' atom, 's' string, 'r' regex literal
	line int
}

func (e *sexpr) String() string {
	switch e.kind {
	case '(':
		parts := make([]string, len(e.list))
		for i, c := range e.list {
			parts[i] = c.String()
		}
		return "(" + strings.Join(parts, " ") + ")"
	case 's':
		return fmt.Sprintf("%q", e.str)
	case 'r':
		return `#"` + e.str + `"`
	}
	return e.atom
}

// head is the symbol a list starts with, or "".
func (e *sexpr) head() string {
	if e.kind == '(' && len(e.list) > 0 && e.list[0].kind == 'a' {
		return e.list[0].atom
	}
	return ""
}

// readSexprs reads every top-level form of text.
func readSexprs(text string) ([]*sexpr, error) {
	r := &reader{s: text, line: 1}
	var out []*sexpr
	for {
		r.skip()
		if r.i >= len(r.s) {
			return out, nil
		}
		e, err := r.read()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
}

type reader struct {
	s    string
	i    int
	line int
}

// skip passes over white space and comments.
func (r *reader) skip() {
	for r.i < len(r.s) {
		switch c := r.s[r.i]; {
		case c == '\n':
			r.line++
			r.i++
		case c == ' ' || c == '\t' || c == '\r':
			r.i++
		case c == ';':
			for r.i < len(r.s) && r.s[r.i] != '\n' {
				r.i++
			}
		default:
			return
		}
	}
}

func (r *reader) read() (*sexpr, error) {
	r.skip()
	if r.i >= len(r.s) {
		return nil, fmt.Errorf("line %d: unexpected end of text", r.line)
	}
	line := r.line
	switch c := r.s[r.i]; {
	case c == '(':
		r.i++
		e := &sexpr{kind: '(', line: line}
		for {
			r.skip()
			if r.i >= len(r.s) {
				return nil, fmt.Errorf("line %d: ( never closed", line)
			}
			if r.s[r.i] == ')' {
				r.i++
				return e, nil
			}
			c, err := r.read()
			if err != nil {
				return nil, err
			}
			e.list = append(e.list, c)
		}
	case c == ')':
		return nil, fmt.Errorf("line %d: ) without (", line)
	case c == '"':
		r.i++
		var b strings.Builder
		for {
			if r.i >= len(r.s) {
				return nil, fmt.Errorf("line %d: string never closed", line)
			}
			c := r.s[r.i]
			r.i++
			switch c {
			case '"':
				return &sexpr{kind: 's', str: b.String(), line: line}, nil
			case '\\':
				if r.i >= len(r.s) {
					return nil, fmt.Errorf("line %d: \\ at the end of the text", line)
				}
				b.WriteByte(r.s[r.i])
				r.i++
			case '\n':
				return nil, fmt.Errorf("line %d: line break inside a string", line)
			default:
				b.WriteByte(c)
			}
		}
	case c == '#' && strings.HasPrefix(r.s[r.i:], `#"`):
		r.i += 2
		end := strings.IndexAny(r.s[r.i:], "\"\n")
		if end < 0 || r.s[r.i+end] != '"' {
			return nil, fmt.Errorf("line %d: regex literal never closed", line)
		}
		e := &sexpr{kind: 'r', str: r.s[r.i : r.i+end], line: line}
		r.i += end + 1
		return e, nil
	default:
		start := r.i
		for r.i < len(r.s) && !strings.ContainsRune(" \t\r\n();\"", rune(r.s[r.i])) {
			r.i++
		}
		return &sexpr{kind: 'a', atom: r.s[start:r.i], line: line}, nil
	}
}
