package launcher

import (
	"fmt"
	"path/filepath"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/userdirs"
)

// ownDir is one of agentrun's own directories, which no agent may see.
type ownDir struct {
	Pattern string // how the user knows it, e.g. $XDG_STATE_HOME/agentrun
	Path    string
	Create  bool // created at launch when missing, so that it can be hidden
}

// ownDirs are agentrun's own directories for the invoking user: the event store
// ($XDG_STATE_HOME/agentrun), the user's profiles ($XDG_CONFIG_HOME/agentrun) and the
// sandbox backend's runtime state (b.RuntimeDirs).
func ownDirs(env profiles.Env, b platform.Backend) []ownDir {
	dirs := []ownDir{
		{Pattern: "$XDG_STATE_HOME/agentrun", Path: filepath.Join(env.StateHome, "agentrun"), Create: true},
		{Pattern: "$XDG_CONFIG_HOME/agentrun", Path: filepath.Join(env.ConfigHome, "agentrun"), Create: true},
	}
	user := userdirs.CurrentDirs()
	if d, err := user.StoreDir(); err == nil {
		dirs = append(dirs, ownDir{Pattern: "$XDG_STATE_HOME/agentrun", Path: d, Create: true})
	}
	if d := user.ConfigDir(); d != "" {
		dirs = append(dirs, ownDir{Pattern: "$XDG_CONFIG_HOME/agentrun", Path: d, Create: true})
	}
	if env.RuntimeDir != "" {
		dirs = append(dirs, ownDir{Pattern: "$XDG_RUNTIME_DIR/agentrun", Path: filepath.Join(env.RuntimeDir, "agentrun")})
	}
	for _, d := range b.RuntimeDirs() {
		dirs = append(dirs, ownDir{Pattern: "agentrun's runtime state", Path: d})
	}
	return dirs
}

// hideOwnFiles adds a deny rule for each of agentrun's own directories to pol, once each.
func hideOwnFiles(pol *profiles.Policy, env profiles.Env, b platform.Backend) {
	seen := map[string]bool{}
	for _, d := range ownDirs(env, b) {
		p := filepath.Clean(d.Path)
		if env.Canonical != nil {
			p = env.Canonical(p)
		}
		if seen[p] || !filepath.IsAbs(p) {
			continue
		}
		seen[p] = true
		pol.Filesystem.Deny = append(pol.Filesystem.Deny, profiles.PathRule{Path: p, Pattern: d.Pattern, Origin: profiles.OwnFilesOrigin})
	}
}

// AddLaunchRules adds to a policy resolved for env what every launch adds, whatever the
// profile says: the deny rules of agentrun's own files and the default limits. profiles
// show --resolved and compile show the policy so.
func AddLaunchRules(pol *profiles.Policy, env profiles.Env, b platform.Backend) {
	hideOwnFiles(pol, env, b)
	pol.DefaultResources = pol.Resources.Unstated(profiles.DefaultLimits)
}

// createOwnDirs makes agentrun's state and configuration directories when they are missing
// (0700, the invoking user's), so that the mount plan, which hides only what exists, hides
// them: an agent with a writable home could otherwise create them during the run and plant
// profiles there. It creates a directory only inside one the invoking user owns, and never
// follows a link in what it creates, so under sudo it does nothing the user could not.
func createOwnDirs(pol *profiles.Policy, env profiles.Env, b platform.Backend) error {
	want := map[string]bool{}
	for _, d := range ownDirs(env, b) {
		if d.Create {
			want[filepath.Clean(d.Path)] = true
		}
	}
	inv := userdirs.Current()
	for _, r := range pol.Filesystem.Deny {
		if !r.OwnFiles() {
			continue
		}
		for p := range want {
			if env.Canonical != nil && env.Canonical(p) == r.Path || p == r.Path {
				if err := mkdirOwned(r.Path, inv.UID, inv.GID); err != nil {
					return fmt.Errorf("creating agentrun's directory %s, to hide it from the agent: %w", r.Path, err)
				}
			}
		}
	}
	return nil
}
