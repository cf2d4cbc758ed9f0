package wsb

import (
	"fmt"
	"strings"
)

// QuoteArg quotes one argument so that CommandLineToArgvW (and the C runtime's parser, which
// follows the same rules) reads it back unchanged: it is put in double quotes when empty or
// when it holds white space or a quote; inside, a quote is written \" and the backslashes
// before a quote or before the closing quote are doubled. Other backslashes stay single.
func QuoteArg(s string) string {
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

// JoinArgs is argv as one Windows command line, each argument quoted by QuoteArg.
func JoinArgs(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = QuoteArg(a)
	}
	return strings.Join(q, " ")
}

// cmdMeta are the characters cmd.exe gives a meaning on a command line.
const cmdMeta = `()%!^"<>&|`

// EscapeCmd puts a caret before every character cmd.exe would interpret, so that cmd.exe
// passes s on as written: as every quote is escaped too, cmd.exe never sees a quoted region
// and removes every caret. (A %NAME% stays literal because the caret makes the name one no
// variable has before the carets are removed.)
func EscapeCmd(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(cmdMeta, r) {
			b.WriteByte('^')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// setting is one variable the logon command sets before the command.
type setting struct{ name, value string }

// logonCommand is the cmd.exe command line that changes to dir, sets the variables and runs
// argv there (or leaves the prompt open in dir when argv is empty). The window stays open
// after the command (/k), so its output can be read before the sandbox is closed. cmd.exe
// cannot carry a line break or a NUL in a command line: such an argument is an error.
func logonCommand(dir string, env []setting, argv []string) (string, error) {
	for _, a := range argv {
		if strings.ContainsAny(a, "\r\n\x00") {
			return "", fmt.Errorf("the command's argument %q has a line break or NUL, which a cmd.exe command line cannot carry", a)
		}
	}
	parts := []string{"cd /d " + EscapeCmd(QuoteArg(dir))}
	for _, s := range env {
		parts = append(parts, "set "+EscapeCmd(`"`+s.name+"="+s.value+`"`))
	}
	if len(argv) > 0 {
		parts = append(parts, EscapeCmd(JoinArgs(argv)))
	}
	return `cmd.exe /s /k "` + strings.Join(parts, " && ") + `"`, nil
}
