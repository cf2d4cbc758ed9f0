// Package cli is agentrun's command line: the run path (agentrun [flags] -- CMD) and the
// subcommands, one file each.
package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/launcher"
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
)

// Version is set at build time with -ldflags "-X github.com/agentrun/agentrun/cmd/agentrun/cli.Version=v1.2.3".
var Version = "dev"

// Main runs agentrun with the given arguments and stdio and returns the exit code. b is the
// host's sandbox backend (platform.Unsupported where this build has none); named are the
// other backends this build has, which --backend NAME chooses.
func Main(b platform.Backend, args []string, stdin io.Reader, stdout, stderr io.Writer, named ...NamedBackend) int {
	appArgs, command := splitCommand(args)
	app := newApp(b, named, stdin, stdout, stderr, command)
	err := app.Run(flagsFirst(app, appArgs))
	if err == nil {
		return 0
	}
	return report(stderr, err)
}

// report prints an error once, with its hint, and returns the exit code for it.
func report(stderr io.Writer, err error) int {
	var exit *exitError
	if errors.As(err, &exit) {
		if exit.msg != "" {
			fmt.Fprintf(stderr, "agentrun: %s\n", exit.msg)
		}
		if exit.hint != "" {
			fmt.Fprintf(stderr, "hint: %s\n", exit.hint)
		}
		return exit.code
	}
	msg := err.Error()
	var problems profiles.ErrorList
	if errors.As(err, &problems) && len(problems) > 1 {
		// A list of profile problems: one per line, under a heading.
		fmt.Fprintf(stderr, "agentrun: invalid profile:\n%s\n", indent(msg))
	} else {
		fmt.Fprintf(stderr, "agentrun: %s\n", msg)
	}
	return launcher.ExitCode(err)
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// exitError ends agentrun with a given code, a message and an optional hint.
type exitError struct {
	code      int
	msg, hint string
}

func (e *exitError) Error() string { return e.msg }

// usageError is a mistake on the command line.
func usageError(hint, format string, args ...any) error {
	return &exitError{code: launcher.ExitError, msg: fmt.Sprintf(format, args...), hint: hint}
}

// noArguments refuses arguments given to a command that takes none: `agentrun doctor claude`
// must not look as if it had checked claude, nor `agentrun setup x` change the host anyway.
func noArguments(c *cli.Context, hint string) error {
	if c.Args().Present() {
		return usageError(hint, "agentrun %s takes no arguments (got %q)", c.Command.Name, c.Args().First())
	}
	return nil
}

// Root flags that take a value; needed to find where the agent's command starts.
var rootValueFlags = map[string]bool{"profile": true, "p": true, "mode": true, "workspace": true, "w": true, "network": true, "events": true, "backend": true, "timeout": true, "timeout-grace": true, "report": true}

// splitCommand separates agentrun's own arguments from the agent's command after "--", when
// everything before "--" is a root flag. The command is kept out of the CLI parser, so an
// agent named like a subcommand ("agentrun -- doctor") still runs as the agent.
func splitCommand(args []string) (appArgs, command []string) {
	if len(args) > 0 && args[len(args)-1] == "--generate-bash-completion" {
		return args, nil
	}
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return args[:i], append([]string{}, args[i+1:]...)
		case !strings.HasPrefix(a, "-"):
			return args, nil // a subcommand, or a command without "--"
		case !strings.Contains(a, "=") && rootValueFlags[strings.TrimLeft(a, "-")]:
			i++ // skip the flag's value
		}
	}
	return args, nil
}

func newApp(b platform.Backend, named []NamedBackend, stdin io.Reader, stdout, stderr io.Writer, command []string) *cli.App {
	return &cli.App{
		Name:      "agentrun",
		Usage:     "run an AI coding agent confined by the operating system",
		UsageText: "agentrun [flags] -- COMMAND [ARGS...]\nagentrun SUBCOMMAND [flags] [args]",
		Description: `agentrun runs COMMAND (claude, codex, gemini, aider, …) under a profile: a policy of the
files it may read and write, the programs it may run, the hosts it may reach and the resources
it may use. The profile is picked by the command's name (claude → the "claude" profile) unless
--profile chooses one; a command no profile matches runs under "base".

Examples:
  agentrun -- claude                       run Claude Code under the built-in claude profile
  agentrun --profile ci -- npm test        a CI job: toolchains, registries, bounded resources
  agentrun --dry-run -- codex              show what would be enforced, run nothing
  agentrun --backend wsb -- claude         on Windows: in a throw-away Windows Sandbox VM
  agentrun profiles show claude --resolved every rule of a profile, with where it comes from

Exit status: the agent's own; 125 when agentrun itself fails, 126 when COMMAND cannot be
executed, 127 when it is not found.`,
		Version:              Version,
		Reader:               stdin,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		Flags:                runFlags(named),
		Action:               func(c *cli.Context) error { return runAction(c, b, named, command) },
		Commands: []*cli.Command{
			profilesCommand(b),
			logCommand(),
			reportCommand(),
			learnCommand(b),
			setupCommand(b),
			doctorCommand(b, named),
			compileCommand(b),
			versionCommand(),
			completionCommand(),
			aliasCommand(),
		},
		// Errors are printed once, by Main; urfave/cli must neither print them nor exit.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usageError("see agentrun "+subcommandPath(c)+"--help", "%v", err)
		},
		CommandNotFound: func(c *cli.Context, name string) {
			fmt.Fprintf(c.App.ErrWriter, "agentrun: no subcommand %q; see agentrun --help\n", name)
		},
	}
}

func subcommandPath(c *cli.Context) string {
	if c.Command == nil || c.Command.Name == "" || c.Command.Name == c.App.Name {
		return ""
	}
	return commandName(c) + " "
}

// commandName is the subcommand as the user typed it, e.g. "profiles show".
func commandName(c *cli.Context) string {
	return strings.TrimPrefix(c.Command.HelpName, c.App.Name+" ")
}

// flagsFirst moves a subcommand's flags before its arguments, so that "profiles show claude
// --resolved" works as well as "profiles show --resolved claude" (urfave/cli, like the flag
// package, stops at the first argument). Everything after "--" stays as it is.
func flagsFirst(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	cmds, i := app.Commands, 1
	var cmd *cli.Command
	for i < len(args) {
		next := findCommand(cmds, args[i])
		if next == nil {
			break
		}
		cmd, cmds, i = next, next.Subcommands, i+1
	}
	if cmd == nil || len(cmd.Subcommands) > 0 {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		if _, isBool := f.(*cli.BoolFlag); !isBool {
			for _, n := range f.Names() {
				takesValue[n] = true
			}
		}
	}
	var flags, positional []string
	for j := i; j < len(args); j++ {
		a := args[j]
		switch {
		case a == "--":
			positional = append(positional, args[j:]...)
			j = len(args)
		case strings.HasPrefix(a, "-") && a != "-":
			flags = append(flags, a)
			if name := strings.TrimLeft(a, "-"); !strings.Contains(name, "=") && takesValue[name] && j+1 < len(args) {
				j++
				flags = append(flags, args[j])
			}
		default:
			positional = append(positional, a)
		}
	}
	out := append(append([]string{}, args[:i]...), flags...)
	return append(out, positional...)
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}
