package cli

import (
	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/launcher"
)

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "explain what this host offers agentrun: kernel layers, privileges, and the tier a run gets",
		Action: func(c *cli.Context) error {
			return launcher.Doctor(c.App.Writer)
		},
	}
}
