package ptyrelay

import "golang.org/x/sys/unix"

// isRaw reports whether the terminal fd is raw as term.MakeRaw makes it: no line editing,
// echo or signals from keys.
func isRaw(fd int) bool {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil && t.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) == 0
}
