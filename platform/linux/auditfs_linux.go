package linux

import (
	"os"

	"github.com/agentrun/agentrun/profiles"
)

// auditFilesystem is audit mode's view: the host's top-level directories, writable as far as
// the user's own permissions go, beside the sandbox's own /proc, /dev, /sys and /tmp; and, in
// that /tmp, what enforce's plan would show there (a workspace under /tmp), writable.
func auditFilesystem(enforce fsPlan) fsPlan {
	var plan fsPlan
	entries, _ := os.ReadDir("/")
	for _, e := range entries {
		p := "/" + e.Name()
		if !e.IsDir() || p == "/proc" || p == "/dev" || p == "/sys" || p == privateTmp || p == stageDir {
			continue // symlinks (/bin → usr/bin) are recreated by rootSymlinks
		}
		plan.Mounts = append(plan.Mounts, fsMount{Path: p, Access: accessWrite, Dir: true})
	}
	for _, m := range enforce.Mounts {
		if profiles.Within(m.Path, privateTmp) && m.Access != accessDeny {
			m.Access, m.NoExec = accessWrite, false // audit mode runs what the user could
			plan.Mounts = append(plan.Mounts, m)
		}
	}
	return plan
}
