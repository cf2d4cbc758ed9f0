package cli

import (
	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/launcher"
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/userdirs"
)

// namedProfile finds the profile that the subcommand's one argument names, as a name or a
// file.
func namedProfile(c *cli.Context) (*profiles.Catalog, *profiles.Entry, error) {
	arg, err := oneArg(c, "profile name or file")
	if err != nil {
		return nil, nil, err
	}
	cat, err := launcher.LoadCatalog()
	if err != nil {
		return nil, nil, err
	}
	e, err := launcher.FindProfile(cat, arg)
	return cat, e, err
}

// profileFor resolves the profile arg names (a name or a file) for env: what the pure
// compilers write for another machine's paths (a container's, a Windows home).
func profileFor(arg string, env profiles.Env) (*profiles.Policy, error) {
	cat, err := launcher.LoadCatalog()
	if err != nil {
		return nil, err
	}
	e, err := launcher.FindProfile(cat, arg)
	if err != nil {
		return nil, err
	}
	return cat.Resolve(e, env)
}

// namedPolicy resolves the profile the command names, with paths expanded for --workspace.
func namedPolicy(c *cli.Context, b platform.Backend) (*profiles.Policy, error) {
	cat, e, err := namedProfile(c)
	if err != nil {
		return nil, err
	}
	return resolveFor(c, b, cat, e)
}

// resolveFor resolves a profile with paths expanded for --workspace.
func resolveFor(c *cli.Context, b platform.Backend, cat *profiles.Catalog, e *profiles.Entry) (*profiles.Policy, error) {
	env, err := profiles.EnvFromOS(userdirs.CurrentDirs(), c.String("workspace"))
	if err != nil {
		return nil, err
	}
	pol, err := cat.Resolve(e, env)
	if err != nil {
		return nil, err
	}
	launcher.AddLaunchRules(pol, env, b)
	return pol, nil
}
