package cli

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/launcher"
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/builtin"
	"github.com/agentrun/agentrun/userdirs"
)

func profilesCommand(b platform.Backend) *cli.Command {
	return &cli.Command{
		Name:  "profiles",
		Usage: "list, show and validate profiles",
		Description: `Profiles are YAML files. The built-in ones are part of agentrun; your own go in
$XDG_CONFIG_HOME/agentrun/profiles/NAME.yaml (default ~/.config/agentrun/profiles) and
shadow a built-in profile of the same name.`,
		Subcommands: []*cli.Command{
			{
				Name:   "list",
				Usage:  "list the known profiles",
				Action: profilesList,
			},
			{
				Name:      "show",
				Usage:     "print a profile as written, or --resolved: merged and expanded",
				ArgsUsage: "NAME|FILE",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "resolved", Usage: "merge what it extends and expand paths for this workspace; each rule says where it comes from"},
					&cli.BoolFlag{Name: "json", Usage: "with --resolved: print the policy as JSON"},
					&cli.StringFlag{Name: "workspace", Aliases: []string{"w"}, Usage: "`DIR` to expand $WORKSPACE to (default: the current directory)"},
				},
				Action:       func(c *cli.Context) error { return profilesShow(c, b) },
				BashComplete: completeProfileNames,
			},
			{
				Name:      "validate",
				Usage:     "check profile files (default: every known profile); exit status 1 if any is invalid",
				ArgsUsage: "[FILE...]",
				Action:    profilesValidate,
			},
		},
	}
}

func profilesList(c *cli.Context) error {
	cat, err := launcher.LoadCatalog()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSOURCE\tMATCH\tDESCRIPTION")
	for _, e := range cat.List() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Name(), e.Layer, orDash(strings.Join(cat.MatchList(e), ",")), e.File.Description.Value)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneArg(c *cli.Context, what string) (string, error) {
	if c.NArg() != 1 {
		return "", usageError("see agentrun "+commandName(c)+" --help", "%s takes one %s, got %d arguments", commandName(c), what, c.NArg())
	}
	return c.Args().First(), nil
}

func profilesShow(c *cli.Context, b platform.Backend) error {
	cat, e, err := namedProfile(c)
	if err != nil {
		return err
	}
	if !c.Bool("resolved") {
		if c.Bool("json") {
			return usageError("write agentrun profiles show --resolved --json "+c.Args().First(), "--json needs --resolved")
		}
		data, err := profileSource(e)
		if err != nil {
			return err
		}
		_, err = c.App.Writer.Write(data)
		return err
	}
	pol, err := resolveFor(c, b, cat, e)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(pol)
	}
	out, err := pol.YAML()
	if err != nil {
		return err
	}
	_, err = c.App.Writer.Write(out)
	return err
}

// profileSource returns a profile's file as written.
func profileSource(e *profiles.Entry) ([]byte, error) {
	if e.Layer == profiles.LayerBuiltin {
		return fs.ReadFile(builtin.FS, strings.TrimPrefix(e.File.Source, "builtin/"))
	}
	return profiles.ReadFileBounded(e.File.Source, profiles.MaxFileSize)
}

// errInvalid ends profiles validate with status 1 after its report.
var errInvalid = &exitError{code: 1}

func profilesValidate(c *cli.Context) error {
	cat, err := launcher.LoadCatalog()
	if err != nil {
		// A broken profile in the catalog is itself a validation result.
		fmt.Fprintf(c.App.ErrWriter, "%v\n", err)
		return errInvalid
	}
	env, err := validationEnv()
	if err != nil {
		return err
	}
	var entries []*profiles.Entry
	names := c.Args().Slice()
	bad := 0
	if len(names) == 0 {
		entries = cat.List()
	}
	for _, n := range names {
		e, err := launcher.FindProfile(cat, n)
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, "%v\n", err)
			bad++
			continue
		}
		entries = append(entries, e)
	}
	for _, e := range entries {
		pol, err := cat.Resolve(e, env)
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, "%v\n", err)
			bad++
			continue
		}
		for _, w := range pol.Warnings {
			fmt.Fprintf(c.App.ErrWriter, "warning: %s\n", w)
		}
		for _, w := range launcher.HomeWarnings(cat, e, pol, env) {
			fmt.Fprintf(c.App.ErrWriter, "warning: %s\n", w)
		}
		fmt.Fprintf(c.App.Writer, "ok %s (%s)\n", e.File.Source, e.Name())
	}
	if bad > 0 {
		return errInvalid
	}
	return nil
}

// validationEnv is the launch environment, with placeholders for what may be unset, so that
// validation judges the profile and not the shell it runs in.
func validationEnv() (profiles.Env, error) {
	env, err := profiles.EnvFromOS(userdirs.CurrentDirs(), "")
	if err != nil {
		// The current directory may be gone; any directory will do as a workspace here.
		env, err = profiles.EnvFromOS(userdirs.CurrentDirs(), os.TempDir())
	}
	if err != nil {
		return env, err
	}
	if env.RuntimeDir == "" {
		env.RuntimeDir = fmt.Sprintf("/run/user/%d", os.Getuid())
	}
	return env, nil
}

// completeProfileNames offers the known profile names to shell completion.
func completeProfileNames(c *cli.Context) {
	cat, err := launcher.LoadCatalog()
	if err != nil {
		return
	}
	for _, e := range cat.List() {
		fmt.Fprintln(c.App.Writer, e.Name())
	}
}
