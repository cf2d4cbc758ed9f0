package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/launcher"
	"github.com/agentrun/agentrun/profiles"
)

func aliasCommand() *cli.Command {
	return &cli.Command{
		Name:  "alias",
		Usage: "print shell functions that run each installed agent under agentrun",
		Description: `For each agent a profile matches (claude, codex, gemini, …) that is on PATH, a
function of the agent's name that runs "agentrun -- NAME ARGS…". If agentrun is gone later,
the function says so and returns 127 rather than run the agent unconfined. "command NAME"
runs the agent itself. Load it in your shell's start-up file, after PATH is set:
  bash (~/.bashrc), zsh (~/.zshrc):  eval "$(agentrun alias)"
  fish (config.fish):                agentrun alias --shell fish | source`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "shell", Usage: "`SHELL` to write for: " + strings.Join(aliasShells, ", ") + " (default: $SHELL's name, else bash)"},
		},
		Action: aliasAction,
	}
}

func aliasAction(c *cli.Context) error {
	if err := noArguments(c, "write agentrun alias [--shell bash|zsh|fish]"); err != nil {
		return err
	}
	shell := c.String("shell")
	if shell == "" {
		shell = defaultShell(os.Getenv("SHELL"))
	} else if !slices.Contains(aliasShells, shell) {
		return usageError("choose --shell bash, zsh or fish", "no aliases for shell %q; agentrun alias writes for bash, zsh and fish", shell)
	}
	self, err := selfPath()
	if err != nil {
		return err
	}
	cat, err := launcher.LoadCatalog()
	if err != nil {
		return err
	}
	agents, refused := aliasAgents(cat, exec.LookPath)
	for _, r := range refused {
		fmt.Fprintf(c.App.ErrWriter, "agentrun: warning: no function for %s; rename it in the profile's match list\n", r)
	}
	text, err := aliasText(shell, self, agents)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(c.App.Writer, text)
	return err
}

// defaultShell is the shell named by $SHELL if agentrun alias writes for it, else bash.
func defaultShell(env string) string {
	if s := filepath.Base(env); slices.Contains(aliasShells, s) {
		return s
	}
	return "bash"
}

// selfPath is agentrun's absolute path, links resolved: the functions run this file and no
// other (never an agentrun found on PATH when they run, which may be planted).
func selfPath() (string, error) {
	p, err := os.Executable()
	if err == nil {
		p, err = filepath.EvalSymlinks(p)
	}
	if err != nil {
		return "", fmt.Errorf("finding agentrun's own path for the functions to run: %w", err)
	}
	if strings.ContainsFunc(p, unicode.IsControl) {
		return "", &exitError{code: launcher.ExitError, msg: fmt.Sprintf("agentrun's own path %q has a control character", p),
			hint: "install agentrun in a directory whose name has none, e.g. /usr/local/bin"}
	}
	return p, nil
}

// aliasAgents returns the names, sorted, that a profile of cat matches and lookPath finds, and
// the names refused (see checkAliasName), each with its profile and why.
func aliasAgents(cat *profiles.Catalog, lookPath func(string) (string, error)) (names, refused []string) {
	seen := map[string]bool{}
	for _, e := range cat.List() {
		for _, m := range cat.MatchList(e) {
			if seen[m] {
				continue
			}
			seen[m] = true
			if err := checkAliasName(m); err != nil {
				refused = append(refused, fmt.Sprintf("%q (profile %s): %v", m, e.File.Source, err))
				continue
			}
			if _, err := lookPath(m); err == nil {
				names = append(names, m)
			}
		}
	}
	sort.Strings(names)
	return names, refused
}
