package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/platform"
)

func setupCommand(b platform.Backend) *cli.Command {
	return &cli.Command{
		Name:  "setup",
		Usage: "prepare this host once: the AppArmor profile that lets agentrun create user namespaces where AppArmor restricts them (Ubuntu 24.04+)",
		Action: func(c *cli.Context) error {
			if err := noArguments(c, "write agentrun setup"); err != nil {
				return err
			}
			done, err := b.Setup()
			for _, d := range done {
				fmt.Fprintln(c.App.Writer, d)
			}
			return err
		},
	}
}
