//go:build unix

package acl

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// lockFD takes flock's exclusive lock. flock locks belong to the open file description, so a
// second open of the same file, in this process too, sees the lock as held.
func lockFD(f *os.File, wait bool) error {
	how := unix.LOCK_EX
	if !wait {
		how |= unix.LOCK_NB
	}
	for {
		err := unix.Flock(int(f.Fd()), how)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return errLocked
		default:
			return &os.PathError{Op: "flock", Path: f.Name(), Err: err}
		}
	}
}
