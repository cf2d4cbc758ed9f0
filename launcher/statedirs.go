package launcher

import (
	"fmt"
	"strings"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/userdirs"
)

// createStateDirs makes the state directories a profile names as write rules written with a
// trailing slash (`~/.claude/`), when they are missing: a write root is bound only when it
// exists, so without them an agent's first run could save nothing (codex stopped at once,
// "Read-only file system", for want of ~/.codex). Only directories in the home are made, as
// createOwnDirs makes agentrun's own: 0700, the invoking user's, inside a directory the user
// owns, never through a link; never one a deny rule covers.
func createStateDirs(pol *profiles.Policy, home string) error {
	if home == "" || home == "/" {
		return nil
	}
	inv := userdirs.Current()
	for _, r := range pol.Filesystem.Write {
		if !strings.HasSuffix(r.Pattern, "/") || profiles.IsPattern(r.Path) || r.Path == home || !profiles.Within(r.Path, home) {
			continue
		}
		if !pol.CheckFile(r.Path, profiles.AccessWrite).Allow {
			continue
		}
		if err := mkdirOwned(r.Path, inv.UID, inv.GID); err != nil {
			return fmt.Errorf("creating %s, the agent's state directory (%s): %w", r.Path, r.Pattern, err)
		}
	}
	return nil
}
