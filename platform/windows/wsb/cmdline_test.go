package wsb

import (
	"slices"
	"testing"

	"github.com/agentrun/agentrun/platform/windows/cmdline"
)

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

// TestLogonCommandRoundTrip checks that an argument survives cmd.exe's carets and then
// CommandLineToArgvW (cmdline's own tests cover the quoting itself).
func TestLogonCommandRoundTrip(t *testing.T) {
	for _, arg := range []string{"claude", "", "a b", `say "hi"`, `C:\dir with space\`, `a\\"b`, "a\tb", `x & y | z % ! ^`, `%PATH%`} {
		argv := []string{"claude", arg, "next"}
		line, err := cmdline.Join(argv)
		if err != nil {
			t.Fatal(err)
		}
		if back := cmdline.Split(unescapeCmd(EscapeCmd(line))); !slices.Equal(back, argv) {
			t.Errorf("through cmd.exe and CommandLineToArgvW: %q, want %q", back, argv)
		}
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
