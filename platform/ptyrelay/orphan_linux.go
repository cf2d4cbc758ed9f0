package ptyrelay

import (
	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/procstat"
)

// orphaned reports whether agentrun's process group is orphaned: no member has a parent in
// another group of the same session, so no shell controls it as a job and the kernel drops a
// terminal stop sent to it (see StopJob). Read from /proc, once per stop of the agent.
func orphaned() bool {
	procs := procstat.All()
	own, sid := unix.Getpgrp(), 0
	if s, err := unix.Getsid(0); err == nil {
		sid = s
	}
	for _, p := range procs {
		if p.Pgrp != own {
			continue
		}
		if parent, ok := procs[p.PPid]; ok && parent.Pgrp != own && parent.Session == sid {
			return false
		}
	}
	return true
}
