package launcher

import (
	"strconv"
	"strings"
	"unicode"
)

// display is how an agent-controlled string (a path, a config value) reaches a terminal:
// as it is when it is plain printable text, else Go-quoted, so control bytes, escape
// sequences and bidirectional overrides show as escapes instead of acting on the terminal.
func display(s string) string {
	for _, r := range s {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) || unicode.Is(unicode.Bidi_Control, r) || r == '"' || r == '\\' {
			return strconv.QuoteToGraphic(s)
		}
	}
	return s
}

// truncate shortens s to about n bytes for a summary line.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !strings.HasSuffix(s, " ") && s[len(s)-1]&0xc0 == 0x80 {
		s = s[:len(s)-1]
	}
	return s + "…"
}
