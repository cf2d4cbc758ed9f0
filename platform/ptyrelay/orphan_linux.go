package ptyrelay

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// orphaned reports whether agentrun's process group is orphaned: no member has a parent in
// another group of the same session, so no shell controls it as a job and the kernel drops a
// terminal stop sent to it (see StopJob). Read from /proc, once per stop of the agent.
func orphaned() bool {
	type proc struct{ ppid, pgrp, sid int }
	procs := map[int]proc{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// After the command's closing parenthesis: state ppid pgrp session.
		f := bytes.Fields(b[bytes.LastIndexByte(b, ')')+1:])
		if len(f) < 4 {
			continue
		}
		ppid, _ := strconv.Atoi(string(f[1]))
		pgrp, _ := strconv.Atoi(string(f[2]))
		sid, _ := strconv.Atoi(string(f[3]))
		procs[pid] = proc{ppid, pgrp, sid}
	}
	own, sid := unix.Getpgrp(), 0
	if s, err := unix.Getsid(0); err == nil {
		sid = s
	}
	for _, p := range procs {
		if p.pgrp != own {
			continue
		}
		if parent, ok := procs[p.ppid]; ok && parent.pgrp != own && parent.sid == sid {
			return false
		}
	}
	return true
}
