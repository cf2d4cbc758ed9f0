package ptyrelay

import "golang.org/x/sys/unix"

// unread is how many bytes the terminal fd holds to be read (-1 when unknown).
func unread(fd int) int {
	n, err := unix.IoctlGetInt(fd, unix.TIOCINQ)
	if err != nil {
		return -1
	}
	return n
}

// isRaw reports whether the terminal fd is raw as term.MakeRaw makes it: no line editing,
// echo or signals from keys.
func isRaw(fd int) bool {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil && t.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) == 0
}
