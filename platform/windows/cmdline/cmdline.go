// Package cmdline writes what Windows' CreateProcess takes as text: a command line that
// CommandLineToArgvW (and the C runtime, which follows the same rules) splits back into the
// arguments it was made of, and a UTF-16 environment block. It is pure and builds on every OS.
package cmdline

import (
	"fmt"
	"strings"
)

// Quote quotes one argument (not the program name: see Join) so that CommandLineToArgvW
// reads it back unchanged: it is put in double quotes when empty or when it holds white space
// or a quote; inside, a quote is written \" and the backslashes before a quote or before the
// closing quote are doubled. Other backslashes stay single.
func Quote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\v\"") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			slashes++
			b.WriteByte(c)
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			b.WriteByte(c)
			slashes = 0
		default:
			slashes = 0
			b.WriteByte(c)
		}
	}
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}

// quoteProgram quotes the program name by its own rule: CommandLineToArgvW takes a name that
// starts with a quote up to the next quote, backslashes and all, and any other name up to the
// first space or tab. So a name is put in quotes when empty or when it holds white space, and
// a name holding a quote cannot be written at all.
func quoteProgram(s string) (string, error) {
	if strings.ContainsRune(s, '"') {
		return "", fmt.Errorf("the program name %q holds a double quote, which a Windows command line cannot carry in a program name (nor can a Windows file name)", s)
	}
	if s != "" && !strings.ContainsAny(s, " \t\n\v") {
		return s, nil
	}
	return `"` + s + `"`, nil
}

// Join is argv as one Windows command line: argv[0] by the rule for a program name, the
// others by Quote. A NUL anywhere, a quote in argv[0] or an empty argv is an error.
func Join(argv []string) (string, error) {
	if len(argv) == 0 {
		return "", fmt.Errorf("an empty command: a Windows command line needs at least the program name")
	}
	for _, a := range argv {
		if strings.ContainsRune(a, 0) {
			return "", fmt.Errorf("the argument %q holds a NUL, which a Windows command line cannot carry", a)
		}
	}
	prog, err := quoteProgram(argv[0])
	if err != nil {
		return "", err
	}
	q := make([]string, len(argv))
	q[0] = prog
	for i, a := range argv[1:] {
		q[i+1] = Quote(a)
	}
	return strings.Join(q, " "), nil
}

// Split is CommandLineToArgvW's documented parsing of a whole command line, the inverse of
// Join: the program name up to the next quote when it starts with one, else up to white
// space; then arguments separated by spaces and tabs, where 2n backslashes and a quote are n
// backslashes and a quote that opens or closes a quoted part, 2n+1 backslashes and a quote
// are n backslashes and a literal quote, and other backslashes are literal.
func Split(s string) []string {
	var out []string
	i := 0
	if strings.HasPrefix(s, `"`) {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return []string{s[1:]}
		}
		out = append(out, s[1:1+end])
		i = end + 2
	} else {
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			return []string{s}
		}
		out = append(out, s[:end])
		i = end
	}
	var cur []byte
	inQuote, have := false, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			n := 0
			for i < len(s) && s[i] == '\\' {
				n++
				i++
			}
			if i < len(s) && s[i] == '"' {
				cur = append(cur, strings.Repeat(`\`, n/2)...)
				if n%2 == 1 {
					cur = append(cur, '"')
				} else {
					inQuote = !inQuote
				}
			} else {
				cur = append(cur, strings.Repeat(`\`, n)...)
				i--
			}
			have = true
		case c == '"':
			inQuote, have = !inQuote, true
		case (c == ' ' || c == '\t') && !inQuote:
			if have {
				out = append(out, string(cur))
			}
			cur, have = nil, false
		default:
			cur, have = append(cur, c), true
		}
	}
	if have {
		out = append(out, string(cur))
	}
	return out
}
