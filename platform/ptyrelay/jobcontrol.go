//go:build linux || darwin

package ptyrelay

import (
	"os"
	"os/signal"
	"time"

	"golang.org/x/sys/unix"
)

// orphanCheck is how often StopJob, waiting to be continued, checks that it was stopped at
// all: a job whose shell went away meanwhile is orphaned, and its stop did not happen.
const orphanCheck = 500 * time.Millisecond

// StopJob stops agentrun's own job, its process group, as the agent was stopped (Ctrl-Z): the
// user's shell gets the terminal back and says so. It returns once the job is continued (`fg`,
// `bg`), or at once where no stop can happen: an orphaned group, which no shell controls
// (agentrun started by tmux or ssh itself), whose terminal stops the kernel drops. Not a
// timeout: on a busy machine the stop may take effect long after the kill.
func StopJob() {
	if orphaned() {
		return
	}
	cont := make(chan os.Signal, 1)
	signal.Notify(cont, unix.SIGCONT)
	defer signal.Stop(cont)
	if unix.Kill(0, unix.SIGTSTP) != nil {
		return
	}
	tick := time.NewTicker(orphanCheck)
	defer tick.Stop()
	for {
		select {
		case <-cont:
			return
		case <-tick.C:
			if orphaned() {
				return
			}
		}
	}
}

// foreground reports whether agentrun's process group is the terminal fd's foreground group.
func foreground(fd int) bool {
	pgrp, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}
