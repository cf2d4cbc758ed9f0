package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

const versionUsage = "print agentrun's version and how it was built"

// `agentrun --version` (and -v) prints what `agentrun version` prints: users try the flag first.
func init() {
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Aliases: []string{"v"}, Usage: versionUsage}
	cli.VersionPrinter = printVersion
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: versionUsage,
		Action: func(c *cli.Context) error {
			if err := noArguments(c, "write agentrun version"); err != nil {
				return err
			}
			printVersion(c)
			return nil
		},
	}
}

func printVersion(c *cli.Context) {
	fmt.Fprintf(c.App.Writer, "agentrun %s\n", Version)
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" || s.Key == "vcs.time" || s.Key == "vcs.modified" {
				fmt.Fprintf(c.App.Writer, "%s %s\n", s.Key, s.Value)
			}
		}
	}
	fmt.Fprintf(c.App.Writer, "go %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
