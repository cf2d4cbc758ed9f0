// Package display escapes agent-controlled text (paths, DNS names, command lines) for a
// person's terminal: one function, Escape, used wherever such a string is printed.
package display

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s as it may be shown on a terminal. Printable text, accented letters and
// CJK included, is kept as it is; everything a terminal would act on or that can make text
// look other than it is becomes a Go-style escape:
//
//   - a backslash becomes \\, so every escape below is unambiguous;
//   - tab, newline and carriage return become \t, \n, \r; the other C0 controls and DEL
//     become \xNN (ESC is \x1b);
//   - a byte that is not part of valid UTF-8 (a lone 0x9b, the 8-bit CSI) becomes \xNN;
//   - any other rune that is not printable — C1 controls (U+0080–U+009F), bidi overrides and
//     isolates (U+202A–U+202E, U+2066–U+2069), zero-width and format characters (U+200B–
//     U+200F, U+FEFF), line and paragraph separators (U+2028, U+2029), spaces other than
//     U+0020, private-use and unassigned code points, and the few printable runes that show
//     as nothing (the Hangul fillers, U+034F) — becomes \uNNNN or \UNNNNNNNN.
//
// The result is valid UTF-8 without control, format or bidi characters, and the input can
// be recovered from it exactly. JSON output is not escaped: it carries the raw value.
func Escape(s string) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !plain(r, size) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case plain(r, size):
			b.WriteString(s[i : i+size])
		case r == utf8.RuneError && size == 1:
			writeHex(&b, 'x', uint32(s[i]), 2)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80:
			writeHex(&b, 'x', uint32(r), 2)
		case r <= 0xffff:
			writeHex(&b, 'u', uint32(r), 4)
		default:
			writeHex(&b, 'U', uint32(r), 8)
		}
		i += size
	}
	return b.String()
}

// Plain reports whether Escape leaves s as it is: valid UTF-8 of printable characters,
// without a backslash.
func Plain(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !plain(r, size) {
			return false
		}
		i += size
	}
	return true
}

// plain reports whether the rune r, size bytes long in the input, is shown as it is.
func plain(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1: // an invalid byte
		return false
	case r < utf8.RuneSelf:
		return r >= 0x20 && r < 0x7f && r != '\\'
	}
	// IsPrint is letters, marks, numbers, punctuation, symbols and U+0020: no controls (Cc),
	// format characters (Cf: bidi controls, zero-width characters, U+FEFF), separators
	// (U+2028, U+2029, other spaces), private-use or unassigned code points.
	return unicode.IsPrint(r) && !unicode.Is(invisible, r)
}

// invisible is printable by unicode.IsPrint yet shows as nothing, so it can hide in or fake
// a name: the combining grapheme joiner, the Hangul fillers and the Khmer inherent vowels.
var invisible = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x034f, Hi: 0x034f, Stride: 1},
		{Lo: 0x115f, Hi: 0x1160, Stride: 1},
		{Lo: 0x17b4, Hi: 0x17b5, Stride: 1},
		{Lo: 0x3164, Hi: 0x3164, Stride: 1},
		{Lo: 0xffa0, Hi: 0xffa0, Stride: 1},
	},
}

const hexDigits = "0123456789abcdef"

func writeHex(b *strings.Builder, kind byte, v uint32, n int) {
	b.WriteByte('\\')
	b.WriteByte(kind)
	for shift := 4 * (n - 1); shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[v>>uint(shift)&0xf])
	}
}

// Thousands is n with commas between groups of three digits: 120,000.
func Thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
