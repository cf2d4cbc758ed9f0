package linux

import (
	"github.com/agentrun/agentrun/platform/fsplan"
	"github.com/agentrun/agentrun/platform/linux/stage"
	"github.com/agentrun/agentrun/profiles"
)

// landlockRules mirrors the filesystem and exec policy as Landlock rules for the stage. The
// mounts already hide denied paths and make protected ones read-only; Landlock adds that
// nothing outside the policy can be opened or executed, whatever is mounted.
func landlockRules(pol *profiles.Policy, fs fsplan.Plan) []stage.Rule {
	var rules []stage.Rule
	for _, m := range fs.Mounts {
		if m.Pin {
			continue // inside a write root already
		}
		switch m.Access {
		case fsplan.Read, fsplan.Protect:
			rules = append(rules, stage.Rule{Path: m.Path, Rights: "r"})
		case fsplan.Write:
			rules = append(rules, stage.Rule{Path: m.Path, Rights: "rw"})
		}
	}
	for _, r := range pol.Exec.Allow {
		rules = append(rules, stage.Rule{Path: profiles.GlobBase(r.Path), Rights: "x"})
	}
	rules = append(rules,
		stage.Rule{Path: "/", Rights: "d"}, // list directories; the mounts decide what is there
		stage.Rule{Path: fsplan.PrivateTmp, Rights: "rw"},
		stage.Rule{Path: "/dev/shm", Rights: "rw"},
		stage.Rule{Path: "/dev/null", Rights: "rw"}, stage.Rule{Path: "/dev/zero", Rights: "rw"},
		stage.Rule{Path: "/dev/full", Rights: "rw"}, stage.Rule{Path: "/dev/random", Rights: "r"},
		stage.Rule{Path: "/dev/urandom", Rights: "r"}, stage.Rule{Path: "/dev/tty", Rights: "rw"},
		stage.Rule{Path: "/dev/pts", Rights: "rw"}, stage.Rule{Path: "/dev/ptmx", Rights: "rw"},
		stage.Rule{Path: "/dev", Rights: "r"},
		stage.Rule{Path: "/proc", Rights: "rw"},
		stage.Rule{Path: "/sys", Rights: "r"},
	)
	return rules
}
