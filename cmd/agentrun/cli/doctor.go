package cli

import (
	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/platform"
)

func doctorCommand(b platform.Backend) *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "explain what this host offers agentrun: kernel layers, privileges, and the tier a run gets",
		Action: func(c *cli.Context) error {
			return b.Doctor(c.App.Writer)
		},
	}
}
