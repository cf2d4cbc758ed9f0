package wsb

import "testing"

// parseArgv is CommandLineToArgvW's documented parsing of arguments after the program name:
// 2n backslashes and a quote are n backslashes and a quote toggle; 2n+1 and a quote are n
// backslashes and a literal quote; other backslashes are literal.
func parseArgv(s string) []string {
	var out []string
	var cur []byte
	inQuote, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			n := 0
			for i < len(s) && s[i] == '\\' {
				n++
				i++
			}
			if i < len(s) && s[i] == '"' {
				for k := 0; k < n/2; k++ {
					cur = append(cur, '\\')
				}
				if n%2 == 1 {
					cur = append(cur, '"')
				} else {
					inQuote = !inQuote
				}
			} else {
				for k := 0; k < n; k++ {
					cur = append(cur, '\\')
				}
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

// unescapeCmd removes cmd.exe's carets as it does outside quotes.
func unescapeCmd(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '^' && i+1 < len(s) {
			i++
		}
		b = append(b, s[i])
	}
	return string(b)
}

func TestQuoteArgRoundTrip(t *testing.T) {
	for _, tc := range []struct{ name, arg, want string }{
		{"plain", "claude", "claude"},
		{"empty", "", `""`},
		{"space", "a b", `"a b"`},
		{"quote", `say "hi"`, `"say \"hi\""`},
		{"trailing backslash", `C:\dir with space\`, `"C:\dir with space\\"`},
		{"backslashes before quote", `a\\"b`, `"a\\\\\"b"`},
		{"lone backslashes stay", `C:\a\b`, `C:\a\b`},
		{"tab", "a\tb", "\"a\tb\""},
		{"cmd metacharacters", `x & y | z % ! ^`, `"x & y | z % ! ^"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := QuoteArg(tc.arg)
			if got != tc.want {
				t.Errorf("QuoteArg(%q) = %s, want %s", tc.arg, got, tc.want)
			}
			argv := []string{tc.arg, "next"}
			back := parseArgv(unescapeCmd(EscapeCmd(JoinArgs(argv))))
			if len(back) != 2 || back[0] != tc.arg || back[1] != "next" {
				t.Errorf("through cmd.exe and CommandLineToArgvW: %q, want %q", back, argv)
			}
		})
	}
}

func TestEscapeCmd(t *testing.T) {
	if got, want := EscapeCmd(`"a & b" %PATH% (x) <y> | !z ^`), `^"a ^& b^" ^%PATH^% ^(x^) ^<y^> ^| ^!z ^^`; got != want {
		t.Errorf("EscapeCmd = %s, want %s", got, want)
	}
}

func TestLogonCommand(t *testing.T) {
	got, err := logonCommand(SandboxWorkspace, []setting{{"A", "x&y"}}, []string{"claude", "a b"})
	if err != nil {
		t.Fatal(err)
	}
	want := `cmd.exe /s /k "cd /d C:\Users\WDAGUtilityAccount\workspace && set ^"A=x^&y^" && claude ^"a b^""`
	if got != want {
		t.Errorf("logonCommand =\n%s\nwant\n%s", got, want)
	}
	if _, err := logonCommand(SandboxWorkspace, nil, []string{"a\nb"}); err == nil {
		t.Error("a line break in an argument was accepted")
	}
}
