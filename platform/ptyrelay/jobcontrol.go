//go:build linux || darwin

package ptyrelay

import (
	"os"
	"os/signal"
	"time"

	"golang.org/x/sys/unix"
)

// orphanWait is how long StopJob waits to be stopped: a stop of an orphaned process group (a
// job no shell controls, e.g. agentrun started by tmux itself) does not happen.
const orphanWait = 100 * time.Millisecond

// StopJob stops agentrun's own job, its process group, as the agent was stopped (Ctrl-Z): the
// user's shell gets the terminal back and says so. It returns once the job is continued (`fg`,
// `bg`), or at once where no stop happens.
func StopJob() {
	cont := make(chan os.Signal, 1)
	signal.Notify(cont, unix.SIGCONT)
	defer signal.Stop(cont)
	if unix.Kill(0, unix.SIGTSTP) != nil {
		return
	}
	select {
	case <-cont:
	case <-time.After(orphanWait):
	}
}

// foreground reports whether agentrun's process group is the terminal fd's foreground group.
func foreground(fd int) bool {
	pgrp, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}
