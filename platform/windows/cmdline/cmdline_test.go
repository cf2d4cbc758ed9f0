package cmdline

import (
	"slices"
	"strings"
	"testing"
)

func TestQuoteRoundTrip(t *testing.T) {
	for _, tc := range []struct{ name, arg, want string }{
		{"plain", "claude", "claude"},
		{"empty", "", `""`},
		{"space", "a b", `"a b"`},
		{"quote", `say "hi"`, `"say \"hi\""`},
		{"trailing backslash", `C:\dir with space\`, `"C:\dir with space\\"`},
		{"backslashes before quote", `a\\"b`, `"a\\\\\"b"`},
		{"lone backslashes stay", `C:\a\b`, `C:\a\b`},
		{"tab", "a\tb", "\"a\tb\""},
		{"line break", "a\nb", "\"a\nb\""},
		{"only quotes", `""`, `"\"\""`},
		{"only backslashes", `\\`, `\\`},
		{"cmd metacharacters", `x & y | z % ! ^`, `"x & y | z % ! ^"`},
		{"unicode", "café ü", `"café ü"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Quote(tc.arg); got != tc.want {
				t.Errorf("Quote(%q) = %s, want %s", tc.arg, got, tc.want)
			}
			argv := []string{"prog", tc.arg, "next"}
			line, err := Join(argv)
			if err != nil {
				t.Fatal(err)
			}
			if back := Split(line); !slices.Equal(back, argv) {
				t.Errorf("Split(Join(%q)) = %q", argv, back)
			}
		})
	}
}

func TestJoinProgramName(t *testing.T) {
	for _, tc := range []struct{ name, prog, want, err string }{
		{"plain", `C:\Windows\System32\cmd.exe`, `C:\Windows\System32\cmd.exe x`, ""},
		{"space keeps its backslashes", `C:\Program Files\Git\`, `"C:\Program Files\Git\" x`, ""},
		{"empty", "", `"" x`, ""},
		{"quote refused", `a"b`, "", "double quote"},
		{"NUL refused", "a\x00b", "", "NUL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Join([]string{tc.prog, "x"})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Join = %q, %v; want an error with %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Join = %q, %v; want %q", got, err, tc.want)
			}
			if back := Split(got); !slices.Equal(back, []string{tc.prog, "x"}) {
				t.Errorf("Split(%q) = %q", got, back)
			}
		})
	}
	if _, err := Join(nil); err == nil {
		t.Error("Join(nil) gave no error")
	}
}

// TestSplit pins the model against CommandLineToArgvW's documented examples
// (learn.microsoft.com, "Parsing C command-line arguments"). It leaves out the undocumented
// "" inside a quoted part (a literal quote since 2008's C runtime): Quote never writes one.
func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
	}{
		{`p "abc" d e`, []string{"p", "abc", "d", "e"}},
		{`p a\\b d"e f"g h`, []string{"p", `a\\b`, "de fg", "h"}},
		{`p a\\\"b c d`, []string{"p", `a\"b`, "c", "d"}},
		{`p a\\\\"b c" d e`, []string{"p", `a\\b c`, "d", "e"}},
		{`"C:\a b\p.exe" x`, []string{`C:\a b\p.exe`, "x"}},
		{`"C:\a b\" x`, []string{`C:\a b\`, "x"}},
	} {
		if got := Split(tc.line); !slices.Equal(got, tc.want) {
			t.Errorf("Split(%s) = %q, want %q", tc.line, got, tc.want)
		}
	}
}
