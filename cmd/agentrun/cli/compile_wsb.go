package cli

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/platform/windows/wsb"
)

// targetWSB is the compile target that writes a Windows Sandbox configuration. Like
// kubernetes it is not one of the backend's targets: a pure compiler, available from any
// host, resolving the profile for a Windows home rather than this host's.
const targetWSB = "wsb"

var wsbFlags = []cli.Flag{
	&cli.StringFlag{Name: "windows-home", Usage: "wsb: the Windows home `DIR` on the host, such as C:\\Users\\ada (default on Windows: %USERPROFILE%)"},
	&cli.BoolFlag{Name: "lossy", Usage: "wsb: write the .wsb although the profile has rules it cannot express, listing each on stderr"},
}

// compileWSB writes the .wsb of agentrun compile --target wsb PROFILE [-- CMD ARGS] to stdout,
// and the rules given up and the notes to stderr.
func compileWSB(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) == 0 {
		return usageError("agentrun compile --target wsb --windows-home C:\\Users\\NAME --workspace C:\\PATH PROFILE -- CMD ARGS", "no profile named")
	}
	command := args[1:]
	if len(command) > 0 && command[0] == "--" {
		command = command[1:]
	} else if len(command) > 0 && strings.HasPrefix(command[0], "-") {
		return usageError("put agentrun's flags before the profile and the command after --: agentrun compile --target wsb --lossy PROFILE -- CMD ARGS", "flag %s after the profile name", display.Escape(command[0]))
	}
	o := wsb.Options{Home: c.String("windows-home"), Workspace: c.String("workspace"), Command: command, Lossy: c.Bool("lossy")}
	if runtime.GOOS == "windows" {
		if o.Home == "" {
			o.Home = os.Getenv("USERPROFILE")
		}
		if o.Workspace == "" {
			o.Workspace, _ = os.Getwd()
		}
		o.IsDir = func(p string) bool { fi, err := os.Stat(p); return err == nil && fi.IsDir() }
	}
	if err := o.Check(); err != nil {
		switch {
		case errors.Is(err, wsb.ErrNoHome):
			return usageError("name the Windows home the .wsb maps: --windows-home C:\\Users\\NAME", "%v", err)
		case errors.Is(err, wsb.ErrNoWorkspace):
			return usageError("name the Windows folder of the workspace: --workspace C:\\PATH", "%v", err)
		}
		return usageError("write Windows paths such as C:\\Users\\ada and C:\\src\\project", "%v", err)
	}
	pol, err := profileFor(args[0], wsb.Env())
	if err != nil {
		return err
	}
	res, err := wsb.Compile(pol, o)
	var le *wsb.LostError
	if errors.As(err, &le) {
		return usageError(wsb.Hint, "%s", le.Error())
	}
	if err != nil {
		return err
	}
	for _, l := range res.Lost {
		fmt.Fprintf(c.App.ErrWriter, "agentrun: given up: %s\n", l)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(c.App.ErrWriter, "agentrun: note: %s\n", display.Escape(n))
	}
	_, err = c.App.Writer.Write(res.WSB)
	return err
}
