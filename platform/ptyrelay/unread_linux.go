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
