package acl

import (
	"errors"
	"os"
)

// errLocked means another open file holds the lock: for a run's lock file, the run is alive.
var errLocked = errors.New("locked by another holder")

// lockFile opens (creating) path and takes its exclusive lock. With wait false it fails with
// errLocked at once when another holder has it.
func lockFile(path string, wait bool) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockFD(f, wait); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// probeLock reports whether the lock file at path is held by someone else. A missing file is
// not held. When it is not held, the returned file holds the lock now (the caller closes it).
func probeLock(path string) (held bool, f *os.File, err error) {
	f, err = os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil, nil
	}
	if err != nil {
		return false, nil, err
	}
	if err := lockFD(f, false); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return true, nil, nil
		}
		return false, nil, err
	}
	return false, f, nil
}
