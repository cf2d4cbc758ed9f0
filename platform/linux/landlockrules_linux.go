package linux

import (
	"github.com/agentrun/agentrun/platform/fsplan"
	"github.com/agentrun/agentrun/profiles"
)

// landlockRules mirrors the filesystem and exec policy as Landlock rules for the stage. The
// mounts already hide denied paths and make protected ones read-only; Landlock adds that
// nothing outside the policy can be opened or executed, whatever is mounted.
func landlockRules(pol *profiles.Policy, fs fsplan.Plan) []pathRule {
	var rules []pathRule
	for _, m := range fs.Mounts {
		if m.Pin {
			continue // inside a write root already
		}
		switch m.Access {
		case fsplan.Read, fsplan.Protect:
			rules = append(rules, pathRule{Path: m.Path, Rights: "r"})
		case fsplan.Write:
			rules = append(rules, pathRule{Path: m.Path, Rights: "rw"})
		}
	}
	for _, r := range pol.Exec.Allow {
		rules = append(rules, pathRule{Path: profiles.GlobBase(r.Path), Rights: "x"})
	}
	rules = append(rules,
		pathRule{Path: "/", Rights: "d"}, // list directories; the mounts decide what is there
		pathRule{Path: fsplan.PrivateTmp, Rights: "rw"},
		pathRule{Path: "/dev/shm", Rights: "rw"},
		pathRule{Path: "/dev/null", Rights: "rw"}, pathRule{Path: "/dev/zero", Rights: "rw"},
		pathRule{Path: "/dev/full", Rights: "rw"}, pathRule{Path: "/dev/random", Rights: "r"},
		pathRule{Path: "/dev/urandom", Rights: "r"}, pathRule{Path: "/dev/tty", Rights: "rw"},
		pathRule{Path: "/dev/pts", Rights: "rw"}, pathRule{Path: "/dev/ptmx", Rights: "rw"},
		pathRule{Path: "/dev", Rights: "r"},
		pathRule{Path: "/proc", Rights: "rw"},
		pathRule{Path: "/sys", Rights: "r"},
	)
	return rules
}
