package fsplan

import (
	"fmt"

	"github.com/agentrun/agentrun/profiles"
)

// UnprotectedError reports that the Landlock + seccomp tier was asked to run a policy that
// protects paths inside writable directories. Only mounts can make a path read-only inside a
// writable tree (Landlock rights are inherited by everything beneath a rule); without them
// the agent could rewrite git hooks and config or an agent's settings, which run outside the
// sandbox later.
type UnprotectedError struct {
	Path  string // the first such protected path
	Count int
	Fix   string // how to get the tier with mounts
}

func (e *UnprotectedError) Error() string {
	return fmt.Sprintf("the Landlock + seccomp tier (--allow-degraded) cannot keep protected paths inside writable directories read-only (%d here, such as %s), and what they hold runs outside the sandbox later (git hooks and config, agent settings); fix: %s; or pass --allow-unprotected as well to run without that protection", e.Count, e.Path, e.Fix)
}

// ProtectedInWrite lists the protect mounts of the plan that lie inside a write mount: those
// only the mount layer can keep read-only.
func (p Plan) ProtectedInWrite() []string {
	var out []string
	for i, m := range p.Mounts {
		if m.Access == Protect && enclosingAccess(p.Mounts[:i], m.Path) == Write {
			out = append(out, m.Path)
		}
	}
	return out
}

// PinnedRules maps each pin of the plan to the rule of the path it keeps in place, for the
// events of a rename or removal the kernel refuses.
func (p Plan) PinnedRules(pol *profiles.Policy) map[string]string {
	out := map[string]string{}
	for _, m := range p.Mounts {
		if m.Pin {
			out[m.Path] = pol.CheckFile(m.For, profiles.AccessWrite).Rule
		}
	}
	return out
}

// Visible reports whether a host path that exists is there in the sandbox the plan builds: a
// mount point or a directory on the way to one (the root's skeleton), a denied path's own
// stand-in, or a path beneath a bind (read, write or protect) with no deny mount nearer.
// Audit mode, whose view is the host's, asks it to judge a call as enforce mode's view would
// have answered it (mkdir of a hidden directory creates it there, rather than failing with
// EEXIST).
func (p Plan) Visible(path string) bool {
	nearest, depth := Access(0), -1
	for _, m := range p.Mounts {
		if profiles.Within(m.Path, path) {
			return true // the mount point itself, or the skeleton above it
		}
		if profiles.Within(path, m.Path) && len(m.Path) > depth {
			nearest, depth = m.Access, len(m.Path)
		}
	}
	return depth >= 0 && nearest != Deny
}
