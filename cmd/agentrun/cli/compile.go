package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
)

// targets are the compile targets, in the order help lists them: the policy itself, then the
// backend's.
func targets(b platform.Backend) []platform.Target {
	return append([]platform.Target{
		{Name: "policy", Usage: "the resolved policy as JSON, the input of every backend", Compile: compilePolicyJSON},
	}, b.Targets()...)
}

func compilePolicyJSON(p *profiles.Policy) ([]byte, error) {
	out, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the policy: %w", err)
	}
	return append(out, '\n'), nil
}

func targetNames(targets []platform.Target) []string {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}
	return names
}

func compileCommand(b platform.Backend) *cli.Command {
	targets := targets(b)
	var help strings.Builder
	for _, t := range targets {
		fmt.Fprintf(&help, "  %-10s %s\n", t.Name, t.Usage)
	}
	fmt.Fprintf(&help, "  %-10s %s\n", targetSBPL, "a macOS Seatbelt profile for sandbox-exec, its paths as -D parameters (any host)")
	fmt.Fprintf(&help, "  %-10s %s\n", targetSanta, "a Santa File Access Authorization plist protecting the denied paths (macOS homes: --home);\n             with --from-events, santactl rule --import JSON for the programs the runs executed")
	fmt.Fprintf(&help, "  %-10s %s\n", targetTCC, "a PPPC .mobileconfig denying the agent's terminals (--terminal) and runtimes (--runtime)\n             the TCC services the profile does not need")
	fmt.Fprintf(&help, "  %-10s %s\n", targetAppLocker, "an audit-only AppLocker policy allowing the profile's programs (--windows-path places them;\n             --from-events adds the programs its runs executed)")
	fmt.Fprintf(&help, "  %-10s %s\n", targetWDAC, "an audit-mode App Control for Business (WDAC) SiPolicy, the same programs")
	fmt.Fprintf(&help, "  %-10s %s\n", targetKubernetes, "a Job (or Pod) and its policies that run CMD under the profile on a cluster:\n             agentrun compile --target kubernetes --image IMG PROFILE -- CMD ARGS")
	fmt.Fprintf(&help, "  %-10s %s\n", targetWSB, "a Windows Sandbox .wsb that runs CMD in the mapped workspace; refuses what it cannot express\n             unless --lossy: agentrun compile --target wsb --windows-home C:\\Users\\NAME --workspace C:\\PATH PROFILE -- CMD")
	return &cli.Command{
		Name:        "compile",
		Usage:       "print what a profile compiles to for one mechanism",
		ArgsUsage:   "--target TARGET NAME|FILE [-- CMD ARGS]",
		Description: "Targets:\n" + help.String(),
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "target", Aliases: []string{"t"}, Usage: "`TARGET` to compile to (required): " + strings.Join(pureTargets(targets), ", ")},
			&cli.StringFlag{Name: "workspace", Aliases: []string{"w"}, Usage: "`DIR` to expand $WORKSPACE to (default: the current directory)"},
		}, append(append(append(append(sbplFlags, kubernetesFlags...), mdmFlags...), appControlFlags...), wsbFlags...)...),
		Action:       func(c *cli.Context) error { return compileAction(c, b, targets) },
		BashComplete: completeProfileNames,
	}
}

// pureTargets are the backend's targets and the compilers any host has.
func pureTargets(targets []platform.Target) []string {
	return append(targetNames(targets), targetSBPL, targetSanta, targetTCC, targetAppLocker, targetWDAC, targetWSB, targetKubernetes)
}

func compileAction(c *cli.Context, b platform.Backend, targets []platform.Target) error {
	// Checked here, not by urfave/cli's Required: on a missing flag it shows the help of the
	// first argument as though it named a subcommand ("no subcommand \"base\"").
	if c.String("target") == "" {
		return usageError("write agentrun compile --target TARGET PROFILE; the targets are: "+strings.Join(pureTargets(targets), ", "), "compile needs --target")
	}
	if mdmTarget(c.String("target")) {
		return compileMDM(c)
	}
	if appControlTarget(c.String("target")) {
		return compileAppControl(c)
	}
	switch c.String("target") {
	case targetKubernetes:
		return compileKubernetes(c, b)
	case targetSBPL:
		return compileSBPL(c, b)
	case targetWSB:
		return compileWSB(c)
	}
	var t *platform.Target
	for i := range targets {
		if targets[i].Name == c.String("target") {
			t = &targets[i]
		}
	}
	if t == nil {
		return usageError("the targets are: "+strings.Join(pureTargets(targets), ", "), "unknown target %q", c.String("target"))
	}
	pol, err := namedPolicy(c, b)
	if err != nil {
		return err
	}
	out, err := t.Compile(pol)
	if err != nil {
		return err
	}
	_, err = c.App.Writer.Write(out)
	return err
}
