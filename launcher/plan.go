package launcher

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/safefs"
	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/builtin"
	"github.com/agentrun/agentrun/userdirs"
)

// Request is what the user asked for on the command line.
type Request struct {
	Command   []string      // the agent and its arguments; Command[0] is looked up on PATH
	Profile   string        // a profile name or file; empty selects by the command's name
	Mode      profiles.Mode // overrides the profile's mode when set
	Workspace string        // the directory the agent works in; empty means the current one
	NoNetwork bool          // --network=none: drop every network rule
	// AllowHomeWorkspace (--allow-home-workspace) accepts a workspace that holds the user's
	// start-up files: the home directory, a directory around it, or one where the profile
	// protects a home path.
	AllowHomeWorkspace bool
	// Backend is the host's sandbox, which runs the plan; platform.Unsupported when nil.
	Backend platform.Backend
}

// Plan is a resolved request: the policy to apply and the command to run under it.
type Plan struct {
	Policy    *profiles.Policy
	Source    string   // where the profile came from: a file path or builtin/NAME.yaml
	Path      string   // the executable, as found on PATH
	Command   []string // the agent's argv, as typed
	Workspace string
	Notes     []string // things the user should know, such as the fallback to base
	// Warnings are about the user's own profiles: rules that name home paths nothing makes
	// visible (HomeWarnings).
	Warnings []string

	// unrunnable says why the policy does not let the agent run the command (checkRunnable):
	// the run is refused (Runnable), the dry run says so.
	unrunnable error
	env        profiles.Env     // what the policy was expanded for
	layer      profiles.Layer   // where the profile came from: built in, the user's, a file
	backend    platform.Backend // the sandbox that runs it
}

// LoadCatalog loads the built-in profiles and the invoking user's own, from
// [userdirs.Dirs.ProfilesDir].
//
// Under sudo the user's files are read with their file-system identity: a profile linked to
// a file only root may read fails as it would for them, instead of being shown in the
// errors that quote its lines.
func LoadCatalog() (*profiles.Catalog, error) {
	var cat *profiles.Catalog
	err := asInvoker(func() (err error) {
		cat, err = profiles.Load(builtin.FS, userdirs.CurrentDirs().ProfilesDir())
		return err
	})
	return cat, err
}

// asInvoker runs fn with the file-system identity of the user agentrun acts for (see
// userdirs.Invoker.FileIdentity): as it is, unless agentrun runs as root for another user.
func asInvoker(fn func() error) error {
	return safefs.AsUser(userdirs.Current().FileIdentity(), fn)
}

// IsProfileFile reports whether a --profile argument names a file rather than a profile.
func IsProfileFile(arg string) bool {
	return strings.ContainsRune(arg, os.PathSeparator) || strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml")
}

// FindProfile returns the profile that --profile names, as a name or a file.
func FindProfile(cat *profiles.Catalog, arg string) (*profiles.Entry, error) {
	if IsProfileFile(arg) {
		// The invoker's file, read with their rights (see LoadCatalog).
		var e *profiles.Entry
		err := asInvoker(func() (err error) {
			e, err = profiles.ReadFile(arg)
			return err
		})
		return e, err
	}
	return cat.Lookup(arg)
}

// Prepare resolves a request into a plan: it finds the command, selects and resolves the
// profile and applies the command-line overrides.
func Prepare(cat *profiles.Catalog, req Request) (*Plan, error) {
	if len(req.Command) == 0 {
		return nil, errors.New("no command given; write the agent after --, e.g. agentrun -- claude")
	}
	path, err := lookCommand(req.Command[0])
	if err != nil {
		return nil, err
	}
	plan := &Plan{Path: path, Command: req.Command, backend: req.Backend}
	if plan.backend == nil {
		plan.backend = platform.Unsupported()
	}
	var entry *profiles.Entry
	switch {
	case req.Profile != "":
		if entry, err = FindProfile(cat, req.Profile); err != nil {
			return nil, err
		}
	default:
		var ok bool
		if entry, ok, err = cat.Match(req.Command[0]); err != nil {
			return nil, err
		}
		if !ok {
			if entry, err = cat.Lookup("base"); err != nil {
				return nil, err
			}
			plan.Notes = append(plan.Notes, fmt.Sprintf("no profile matches %q; using \"base\" (choose one with --profile)", filepath.Base(req.Command[0])))
		}
	}
	env, err := profiles.EnvFromOS(userdirs.CurrentDirs(), req.Workspace)
	if err != nil {
		return nil, err
	}
	if err := checkWorkspace(env.Workspace); err != nil {
		return nil, err
	}
	pol, err := cat.Resolve(entry, env)
	if err != nil {
		return nil, err
	}
	plan.Warnings = HomeWarnings(cat, entry, pol, env)
	if held := startupFilesIn(pol, env.Home, env.Workspace); held != "" {
		if !req.AllowHomeWorkspace {
			return nil, fmt.Errorf("%w: %s %s; the agent may write everywhere in its workspace, and what runs at your next login, shell or git command must not be its to change; start agentrun in a project directory (or pass --workspace DIR), or pass --allow-home-workspace to accept it (protected paths stay read-only and cannot be moved aside)", ErrHomeWorkspace, env.Workspace, held)
		}
		plan.Notes = append(plan.Notes, fmt.Sprintf("--allow-home-workspace: the workspace %s; all of it is writable except what the profile denies or protects", held))
	}
	if req.Mode != "" {
		pol.Mode = req.Mode
	}
	if req.NoNetwork {
		pol.Network = profiles.NetworkPolicy{}
	}
	AddLaunchRules(pol, env, plan.backend)
	if rc, ok := req.Backend.(platform.RunnableChecker); ok {
		if err := rc.CheckRunnable(pol, path); err != nil {
			plan.unrunnable = fmt.Errorf("%w: %w", err, ErrCannotExecute)
		}
	} else {
		plan.unrunnable = checkRunnable(pol, entry, path)
	}
	for _, r := range pol.Filesystem.Deny {
		if r.OwnFiles() && profiles.Within(env.Workspace, r.Path) {
			return nil, fmt.Errorf("the workspace %s is inside agentrun's own files (%s), which no agent may see; edit profiles there without agentrun, or pass --workspace", env.Workspace, r.Path)
		}
	}
	plan.Policy, plan.Source, plan.Workspace, plan.env, plan.layer = pol, entry.File.Source, env.Workspace, env, entry.Layer
	return plan, nil
}

// A workspace is writable by the agent, so it may not be a system tree, nor a directory that
// holds many users' or services' files.
var (
	systemTrees   = []string{"/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/proc", "/sys", "/dev"}
	sharedParents = []string{"/", "/home", "/var", "/run", "/srv", "/opt", "/mnt", "/media"}
)

// checkWorkspace refuses a workspace that would make the system, or every user's files,
// writable.
func checkWorkspace(ws string) error {
	real, err := filepath.EvalSymlinks(ws)
	if err != nil {
		real = ws
	}
	bad := false
	for _, d := range systemTrees {
		bad = bad || real == d || strings.HasPrefix(real, d+"/")
	}
	for _, d := range sharedParents {
		bad = bad || real == d
	}
	if bad {
		return fmt.Errorf("the workspace %s is a system directory, and the agent may write everywhere in its workspace; start agentrun in a project directory or pass --workspace DIR", ws)
	}
	return nil
}

// startupFilesIn says what start-up files the workspace holds: the home directory itself, or
// a path the profile protects that it did not name through $WORKSPACE (~/.bashrc,
// ~/.config/systemd, …); "" when it holds none.
func startupFilesIn(pol *profiles.Policy, home, ws string) string {
	if home != "" && profiles.Within(home, ws) {
		if home == ws {
			return "is your home directory"
		}
		return "holds your home directory " + home
	}
	for _, r := range pol.Filesystem.Protect {
		if !strings.HasPrefix(r.Pattern, "$WORKSPACE") && profiles.Within(r.Path, ws) {
			return "holds " + r.Path
		}
	}
	return ""
}

// checkRunnable refuses, in enforce mode, a command the policy does not let the agent run: the
// sandbox would only answer "no such file or directory" for it (its directory unseen, or no
// exec.allow rule), as a fragment such as node, used alone, does for sh. The program counts as
// allowed when a rule covers the path found on PATH or the file it links to. Audit mode runs
// it and records the would-deny.
func checkRunnable(pol *profiles.Policy, entry *profiles.Entry, path string) error {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs // ./agent.sh, found as it was typed
	}
	if pol.Mode == profiles.ModeAudit || pol.CheckFile(path, profiles.AccessExec).Allow {
		return nil
	}
	if real, err := filepath.EvalSymlinks(path); err == nil && pol.CheckFile(real, profiles.AccessExec).Allow {
		return nil
	}
	return fmt.Errorf("%s: the profile %s does not let the agent run it (no exec.allow rule covers it); choose a profile that extends base, which runs the system's programs (agentrun profiles list), or add it to exec.allow in a profile of yours: %w", path, entry.Name(), ErrCannotExecute)
}

// Runnable is nil when the policy lets the agent run the command, else why not, an error
// wrapping ErrCannotExecute: the launch stops before building the sandbox.
func (p *Plan) Runnable() error { return p.unrunnable }

// lookCommand finds the agent's executable as the shell would.
func lookCommand(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf(`"" (an empty command name): %w`, ErrCommandNotFound)
	}
	path, err := exec.LookPath(name)
	if err == nil {
		return path, nil
	}
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, exec.ErrDot) {
		return "", fmt.Errorf("%s: %w", name, ErrCannotExecute)
	}
	if fi, statErr := os.Stat(name); statErr == nil && strings.ContainsRune(name, os.PathSeparator) {
		if fi.IsDir() {
			return "", fmt.Errorf("%s: is a directory: %w", name, ErrCannotExecute)
		}
		return "", fmt.Errorf("%s: not executable: %w", name, ErrCannotExecute)
	}
	return "", fmt.Errorf("%s: %w", name, ErrCommandNotFound)
}
