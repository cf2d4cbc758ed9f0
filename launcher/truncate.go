package launcher

import "strings"

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
