package cli

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/platform/windows/appcontrol"
)

// The compile targets for Windows application control: pure compilers, available from any
// host, resolving the profile with placeholders that --windows-path places on Windows.
const (
	targetAppLocker = "applocker"
	targetWDAC      = "wdac"
)

var appControlFlags = []cli.Flag{
	&cli.StringSliceFlag{Name: "windows-path", Usage: "applocker, wdac: place a Linux location on Windows, `LINUX=WINDOWS` (repeat), such as '~=C:\\Users\\ada' or '$WORKSPACE=D:\\src\\app'"},
	&cli.StringFlag{Name: "sid", Usage: "applocker: the user or group `SID` the rules apply to (default: Everyone, S-1-1-0)"},
}

// appControlTarget reports whether name is a target compileAppControl writes.
func appControlTarget(name string) bool { return name == targetAppLocker || name == targetWDAC }

// compileAppControl writes the applocker or wdac target to stdout and its notes to stderr.
func compileAppControl(c *cli.Context) error {
	cat, e, err := namedProfile(c)
	if err != nil {
		return err
	}
	pol, err := cat.Resolve(e, appcontrol.Env())
	if err != nil {
		return err
	}
	o := appcontrol.Options{SID: c.String("sid")}
	for _, s := range c.StringSlice("windows-path") {
		m, err := appcontrol.ParseMapping(s)
		if err != nil {
			return usageError("write --windows-path LINUX=WINDOWS, such as '~=C:\\Users\\ada'", "--windows-path %v", err)
		}
		o.Paths = append(o.Paths, m)
	}
	if c.Bool("from-events") {
		since, err := sinceFlag(c)
		if err != nil {
			return err
		}
		exes, err := executedPrograms(e.Name(), since)
		if err != nil {
			return err
		}
		for _, x := range exes {
			o.Executables = append(o.Executables, appcontrol.Executable{Path: x.Path, Count: x.Count})
		}
		o.LinuxHome, _ = os.UserHomeDir() // the events were recorded here
	}
	compile := appcontrol.CompileAppLocker
	if c.String("target") == targetWDAC {
		compile = appcontrol.CompileWDAC
	}
	res, err := compile(pol, o)
	if err != nil {
		return err
	}
	for _, n := range res.Notes {
		fmt.Fprintf(c.App.ErrWriter, "agentrun: note: %s\n", display.Escape(n))
	}
	_, err = c.App.Writer.Write(res.XML)
	return err
}
