package display

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain path", "/home/u/work/main.go", "/home/u/work/main.go"},
		{"accented name kept", "/home/u/café/résumé.txt", "/home/u/café/résumé.txt"},
		{"cjk name kept", "/home/u/文档/报告.md", "/home/u/文档/报告.md"},
		{"emoji kept", "/tmp/🙂.txt", "/tmp/🙂.txt"},
		{"space kept", "/tmp/a b", "/tmp/a b"},
		{"osc 0 title", "/tmp/\x1b]0;pwned\x07", `/tmp/\x1b]0;pwned\x07`},
		{"osc 52 clipboard", "\x1b]52;c;Y3VybCBldmlsLnRlc3Q=\x1b\\", `\x1b]52;c;Y3VybCBldmlsLnRlc3Q=\x1b\\`},
		{"cr and erase line", "/tmp/x\r\x1b[Kagentrun: 0 accesses denied", `/tmp/x\r\x1b[Kagentrun: 0 accesses denied`},
		{"forged line", "/tmp/x\nagentrun: 0 accesses denied", `/tmp/x\nagentrun: 0 accesses denied`},
		{"forged learn prompt", "/w/a\n      write: - ~", `/w/a\n      write: - ~`},
		{"tab", "a\tb", `a\tb`},
		{"del", "a\x7fb", `a\x7fb`},
		{"8-bit csi byte", "a\x9b2Jb", `a\x9b2Jb`},
		{"c1 csi rune", "a\u009b2Jb", `a\u009b2Jb`},
		{"c1 nel", "a\u0085b", `a\u0085b`},
		{"invalid utf-8", "a\xff\xfeb", `a\xff\xfeb`},
		{"truncated utf-8", "a\xe6\x96", `a\xe6\x96`},
		{"rlo", "/tmp/evil\u202etxt.sh", `/tmp/evil\u202etxt.sh`},
		{"bidi isolates", "\u2066a\u2067b\u2068c\u2069", `\u2066a\u2067b\u2068c\u2069`},
		{"lre lri pdf", "\u202a\u202b\u202c\u202d", `\u202a\u202b\u202c\u202d`},
		{"zero width", "ev\u200bil\u200c\u200d\u200e\u200f", `ev\u200bil\u200c\u200d\u200e\u200f`},
		{"line separators", "a\u2028b\u2029c", `a\u2028b\u2029c`},
		{"bom", "\ufeffname", `\ufeffname`},
		{"hangul filler", "a\u3164b", `a\u3164b`},
		{"no-break space", "a\u00a0b", `a\u00a0b`},
		{"tag character", "a\U000e0041b", `a\U000e0041b`},
		{"backslash escaped", `C:\x1b`, `C:\\x1b`},
		{"nul", "a\x00b", `a\x00b`},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Escape(tc.in)
			if got != tc.want {
				t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if err := checkSafe(got); err != nil {
				t.Error(err)
			}
			back, err := unescape(got)
			if err != nil || back != tc.in {
				t.Errorf("unescape(%q) = %q, %v; want %q", got, back, err, tc.in)
			}
		})
	}
}

// checkSafe is the property every output has: valid UTF-8 and nothing a terminal acts on or
// that hides.
func checkSafe(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("output " + strconv.Quote(s) + " is not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || unicode.Is(unicode.Bidi_Control, r) ||
			unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029 || (r != ' ' && !unicode.IsPrint(r)) {
			return errors.New("output " + strconv.Quote(s) + " holds " + strconv.QuoteRune(r))
		}
	}
	return nil
}

// unescape inverts Escape, for tests.
func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(s) {
			return "", errors.New("trailing backslash")
		}
		i++
		n := 0
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'x':
			n = 2
		case 'u':
			n = 4
		case 'U':
			n = 8
		default:
			return "", errors.New("unknown escape \\" + string(s[i]))
		}
		if n == 0 {
			continue
		}
		if i+n >= len(s) {
			return "", errors.New("short escape")
		}
		v, err := strconv.ParseUint(s[i+1:i+1+n], 16, 32)
		if err != nil {
			return "", err
		}
		if s[i] == 'x' {
			b.WriteByte(byte(v))
		} else {
			b.WriteRune(rune(v))
		}
		i += n
	}
	return b.String(), nil
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{
		"/home/u/café", "/tmp/文档", "\x1b]0;t\x07", "\x1b]52;c;YQ==\x1b\\", "x\r\x1b[K", "a\nb",
		"\x9b", "\u009b", "\u202e", "\u2066", "\ufeff", "\xff", "\\", `\x1b`, "\U000e0041", "\u3164",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Escape(in)
		if err := checkSafe(out); err != nil {
			t.Fatal(err)
		}
		back, err := unescape(out)
		if err != nil {
			t.Fatalf("unescape(%q): %v", out, err)
		}
		if back != in {
			t.Fatalf("unescape(Escape(%q)) = %q", in, back)
		}
		if !strings.Contains(out, `\`) && out != in {
			t.Fatalf("Escape(%q) = %q changed text without escaping it", in, out)
		}
	})
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
