package wsb

import (
	"fmt"
	"strings"

	"github.com/agentrun/agentrun/platform/windows/cmdline"
)

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
	parts := []string{"cd /d " + EscapeCmd(cmdline.Quote(dir))}
	for _, s := range env {
		parts = append(parts, "set "+EscapeCmd(`"`+s.name+"="+s.value+`"`))
	}
	if len(argv) > 0 {
		line, err := cmdline.Join(argv)
		if err != nil {
			return "", err
		}
		parts = append(parts, EscapeCmd(line))
	}
	return `cmd.exe /s /k "` + strings.Join(parts, " && ") + `"`, nil
}
