package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/launcher"
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/steps"
	"github.com/agentrun/agentrun/profiles"
)

func runFlags(named []NamedBackend) []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "profile", Aliases: []string{"p"}, Usage: "profile `NAME` or FILE to run under (default: the one whose match names COMMAND, else base)"},
		&cli.StringFlag{Name: "mode", Usage: "`MODE` enforce (denied accesses fail) or audit (they succeed and are recorded); overrides the profile"},
		&cli.StringFlag{Name: "workspace", Aliases: []string{"w"}, Usage: "`DIR` the agent works in, $WORKSPACE in profiles (default: the current directory)"},
		&cli.StringFlag{Name: "network", Usage: "set to `none` to give the agent no network, whatever the profile allows"},
		&cli.BoolFlag{Name: "dry-run", Usage: "print the plan (profile, layers, rules) and exit without running COMMAND"},
		&cli.BoolFlag{Name: "trace", Usage: "record every file, exec and network access, not only those enforce mode denies (every file call then waits while agentrun reads it; without it, enforce mode's reads go straight to the kernel)"},
		&cli.StringFlag{Name: "events", Usage: "append every event of the run (what was denied, or would be in audit mode; everything with --trace) to `FILE`, as JSON lines"},
		&cli.BoolFlag{Name: "allow-home-workspace", Usage: "run even when the workspace holds your start-up files (your home directory, or a directory with ~/.bashrc, ~/.config/systemd, … inside); what the profile protects stays read-only"},
		&cli.BoolFlag{Name: "allow-degraded", Usage: "run even when a confinement layer the profile needs cannot be set up on this host (each one given up is listed)"},
		&cli.BoolFlag{Name: "as-root", EnvVars: []string{"AGENTRUN_AS_ROOT"}, Usage: "when agentrun runs as root without sudo, keep the agent root (without capabilities) instead of an unprivileged uid: it then reads every file root may read"},
		&cli.BoolFlag{Name: "allow-unprotected", Usage: "with --allow-degraded, run the Landlock + seccomp tier even though it cannot keep the profile's protected paths inside writable directories read-only (git hooks and config, agent settings: the agent could plant commands that run outside the sandbox later)"},
		backendFlag(named),
	}, ciFlags()...)
}

func runAction(c *cli.Context, host platform.Backend, named []NamedBackend, command []string) error {
	if command == nil {
		if c.Args().Present() {
			return usageError("write agentrun -- "+strings.Join(c.Args().Slice(), " ")+"; the -- separates agentrun's flags from the agent's",
				"%q is not a subcommand%s", c.Args().First(), suggestCommand(c, c.Args().First()))
		}
		return cli.ShowAppHelp(c)
	}
	// A dry run launches nothing: it describes a backend even where it cannot run.
	choose := usableBackend
	if c.Bool("dry-run") {
		choose = chooseBackend
	}
	b, err := choose(host, named, c.String("backend"))
	if err != nil {
		return err
	}
	req := launcher.Request{Command: command, Profile: c.String("profile"), Workspace: c.String("workspace"), AllowHomeWorkspace: c.Bool("allow-home-workspace"), Backend: b}
	switch m := profiles.Mode(c.String("mode")); m {
	case "", profiles.ModeEnforce, profiles.ModeAudit:
		req.Mode = m
	default:
		return usageError("write --mode enforce or --mode audit", "--mode %q is not a mode", m)
	}
	switch n := c.String("network"); n {
	case "":
	case "none":
		req.NoNetwork = true
	default:
		return usageError("the hosts an agent may reach come from its profile; --network only turns them off", "--network %q: the only value is none", n)
	}
	if c.Bool("as-root") {
		// The backend reads it where it decides who the agent is: the run, --dry-run, doctor.
		if err := os.Setenv("AGENTRUN_AS_ROOT", "1"); err != nil {
			return err
		}
	}
	if c.String("events") == "-" {
		// Events come while the agent writes its own output: on its stdout they would
		// interleave with it mid-line. (--report - is written once the agent has ended.)
		return usageError("name a file, or /dev/stderr; agentrun log --run ID --json prints a run's events afterwards", "--events -: events are written while the agent writes to stdout, so they cannot share it")
	}
	runOpts := launcher.RunOptions{AllowDegraded: c.Bool("allow-degraded"), AllowUnprotected: c.Bool("allow-unprotected"), EventsFile: c.String("events"), Trace: c.Bool("trace")}
	if err := ciOptions(c, &runOpts); err != nil {
		return err
	}
	steps.Step("command line read")
	if !c.Bool("dry-run") {
		// From here on a run has something to clean up: a closed pipe must not end agentrun.
		// Its signal handling starts now, beside the sandbox's start, not later.
		surviveClosedPipes()
		// The sandbox's start overlaps with resolving the profile.
		release := b.Warm(c.App.Reader, c.App.Writer, c.App.ErrWriter)
		defer release()
	}
	cat, err := launcher.LoadCatalog()
	if err != nil {
		return err
	}
	plan, err := launcher.Prepare(cat, req)
	if err != nil {
		return err
	}
	steps.Step("profile resolved")
	if c.Bool("dry-run") {
		return plan.Describe(c.App.Writer)
	}
	if err := plan.Runnable(); err != nil {
		return err
	}
	for _, n := range plan.Notes {
		fmt.Fprintf(c.App.ErrWriter, "agentrun: %s\n", n)
	}
	for _, w := range plan.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "agentrun: warning: %s\n", w)
	}
	code, err := launcher.Run(c.Context, plan, launcher.Stdio{Stdin: c.App.Reader, Stdout: c.App.Writer, Stderr: c.App.ErrWriter}, runOpts)
	var oom *platform.OOMError
	switch {
	case errors.As(err, &oom):
		fmt.Fprintf(c.App.ErrWriter, "agentrun: %v\n", oom)
		return &exitError{code: oom.Code}
	case err != nil:
		return err
	case code != 0:
		return &exitError{code: code}
	}
	return nil
}

// suggestCommand returns "; did you mean agentrun X?" for a word close to a subcommand.
func suggestCommand(c *cli.Context, word string) string {
	for _, cmd := range c.App.Commands {
		for _, name := range cmd.Names() {
			if strings.HasPrefix(name, word) || strings.HasPrefix(word, name) {
				return fmt.Sprintf(" (did you mean agentrun %s?)", cmd.Name)
			}
		}
	}
	return ""
}
