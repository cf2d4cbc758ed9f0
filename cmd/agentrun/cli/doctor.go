package cli

import (
	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/platform"
)

func doctorCommand(host platform.Backend, named []NamedBackend) *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "explain what this host offers agentrun: kernel layers, privileges, and the tier a run gets",
		Flags: []cli.Flag{backendFlag(named)},
		Action: func(c *cli.Context) error {
			if err := noArguments(c, "write agentrun doctor; it explains the host, whatever the agent"); err != nil {
				return err
			}
			b, err := chooseBackend(host, named, c.String("backend"))
			if err != nil {
				return err
			}
			return b.Doctor(c.App.Writer)
		},
	}
}
