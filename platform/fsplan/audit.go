package fsplan

import (
	"os"
	"sort"

	"github.com/agentrun/agentrun/profiles"
)

// Audit is audit mode's view: the host's top-level directories, writable as far as
// the user's own permissions go, beside the sandbox's own /proc, /dev, /sys and /tmp; and, in
// that /tmp, what enforce's plan would show there (a workspace under /tmp), writable; and,
// hidden as in enforce mode, agentrun's own files (the policy's OwnFiles rules): reading
// them is never needed, like cloud metadata they stay denied. stageDir, the sandbox's own
// directory for agentrun's stage, is left out like /proc.
//
// Over that view go, writable, the home directory and enforce's write roots: where the agent
// runs as another uid than the files' owner (root's runs, see the agent user layer), those
// binds are idmapped as in enforce mode, so that the agent works on its own files in both
// modes as the same unprivileged user, and meets the host's permissions elsewhere as enforce
// mode would make it; the top-level binds never are (HostView: a tree of many file systems).
func Audit(enforce Plan, pol *profiles.Policy, stat StatFunc, stageDir, home string) Plan {
	var plan Plan
	entries, _ := os.ReadDir("/")
	for _, e := range entries {
		p := "/" + e.Name()
		if !e.IsDir() || p == "/proc" || p == "/dev" || p == "/sys" || p == PrivateTmp || p == stageDir {
			continue // symlinks (/bin → usr/bin) are recreated by rootSymlinks
		}
		plan.Mounts = append(plan.Mounts, Mount{Path: p, Access: Write, Dir: true, HostView: true})
	}
	if exists, dir := stat(home); exists && dir && home != "/" {
		plan.Mounts = append(plan.Mounts, Mount{Path: home, Access: Write, Dir: true})
	}
	for _, m := range enforce.Mounts {
		if m.Access == Write && !m.Pin && !profiles.Within(m.Path, PrivateTmp) && m.Path != home {
			plan.Mounts = append(plan.Mounts, Mount{Path: m.Path, Access: Write, Dir: m.Dir})
		}
	}
	for _, r := range pol.Filesystem.Deny {
		if exists, dir := stat(r.Path); r.OwnFiles() && exists {
			plan.Mounts = append(plan.Mounts, Mount{Path: r.Path, Access: Deny, Dir: dir})
		}
	}
	for _, m := range enforce.Mounts {
		if profiles.Within(m.Path, PrivateTmp) && m.Access != Deny {
			m.Access, m.NoExec = Write, false // audit mode runs what the user could
			plan.Mounts = append(plan.Mounts, m)
		}
	}
	sort.SliceStable(plan.Mounts, func(i, j int) bool { return lessPath(plan.Mounts[i].Path, plan.Mounts[j].Path) })
	return plan
}
