package ptyrelay

import "golang.org/x/sys/unix"

// unread is how many bytes the terminal fd holds to be read: unknown here (-1), where no
// agent is suspended yet (Suspend is the Linux backend's).
func unread(fd int) int { return -1 }

// isRaw reports whether the terminal fd is raw as term.MakeRaw makes it: no line editing,
// echo or signals from keys.
func isRaw(fd int) bool {
	t, err := unix.IoctlGetTermios(fd, unix.TIOCGETA)
	return err == nil && t.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) == 0
}

// orphaned reports whether agentrun's process group is orphaned: unknown here (false), where
// StopJob is not used yet.
func orphaned() bool { return false }
