package linux

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

// protectedInWrite lists the protect mounts of a plan that lie inside a write mount: those only
// the mount layer can keep read-only.
func protectedInWrite(plan fsPlan) []string {
	var out []string
	for i, m := range plan.Mounts {
		if m.Access == accessProtect && enclosingAccess(plan.Mounts[:i], m.Path) == accessWrite {
			out = append(out, m.Path)
		}
	}
	return out
}

// pinnedRules maps each pin of the plan to the rule of the path it keeps in place, for the
// events of a rename or removal the kernel refuses.
func pinnedRules(pol *profiles.Policy, plan fsPlan) map[string]string {
	out := map[string]string{}
	for _, m := range plan.Mounts {
		if m.Pin {
			out[m.Path] = pol.CheckFile(m.For, profiles.AccessWrite).Rule
		}
	}
	return out
}
