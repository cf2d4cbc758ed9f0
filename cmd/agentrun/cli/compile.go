package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/profiles"
)

// target is one thing a policy compiles to. Backends add theirs to targets.
type target struct {
	name  string
	usage string
	build func(*profiles.Policy) ([]byte, error)
}

// targets is the registry of compile targets, in the order help lists them.
var targets = append([]target{
	{"policy", "the resolved policy as JSON, the input of every backend", compilePolicyJSON},
}, platformTargets()...)

func compilePolicyJSON(p *profiles.Policy) ([]byte, error) {
	out, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the policy: %w", err)
	}
	return append(out, '\n'), nil
}

func targetNames() []string {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.name
	}
	return names
}

func compileCommand() *cli.Command {
	var help strings.Builder
	for _, t := range targets {
		fmt.Fprintf(&help, "  %-10s %s\n", t.name, t.usage)
	}
	return &cli.Command{
		Name:        "compile",
		Usage:       "print what a profile compiles to for one mechanism",
		ArgsUsage:   "--target TARGET NAME|FILE",
		Description: "Targets:\n" + help.String(),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "target", Aliases: []string{"t"}, Required: true, Usage: "`TARGET` to compile to: " + strings.Join(targetNames(), ", ")},
			&cli.StringFlag{Name: "workspace", Aliases: []string{"w"}, Usage: "`DIR` to expand $WORKSPACE to (default: the current directory)"},
		},
		Action:       compileAction,
		BashComplete: completeProfileNames,
	}
}

func compileAction(c *cli.Context) error {
	var t *target
	for i := range targets {
		if targets[i].name == c.String("target") {
			t = &targets[i]
		}
	}
	if t == nil {
		return usageError("the targets are: "+strings.Join(targetNames(), ", "), "unknown target %q", c.String("target"))
	}
	cat, e, err := namedProfile(c)
	if err != nil {
		return err
	}
	pol, err := resolveFor(c, cat, e)
	if err != nil {
		return err
	}
	out, err := t.build(pol)
	if err != nil {
		return err
	}
	_, err = c.App.Writer.Write(out)
	return err
}
