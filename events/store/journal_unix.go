//go:build unix

package store

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// appendJournal appends data (whole lines) to the journal at path, creating it (0600, given to
// owner). It holds a shared lock on the file while it writes, and writes only once the file it
// opened is still the one at path: an import renames the journal before it reads it, and reads
// it under an exclusive lock, so a line is either in the journal it reads or in the next one.
// It returns the journal's size after the write.
func appendJournal(path string, data []byte, owner *Owner) (int64, error) {
	for try := 0; ; try++ {
		// O_NONBLOCK: a FIFO in the journal's place fails at once instead of waiting for a reader.
		fd, err := unix.Open(path, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return 0, err
		}
		f := os.NewFile(uintptr(fd), path)
		journalOpened()
		var size int64
		current, err := lockCurrent(f, path, owner)
		if err == nil && current {
			if _, err = f.Write(data); err == nil {
				size, err = f.Seek(0, io.SeekCurrent)
			}
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil || current {
			return size, err
		}
		if try == 10 {
			return 0, errors.New("the journal kept moving while a run was appended to it")
		}
	}
}

// journalOpened is a test's hook: it widens the window between the open and the lock.
var journalOpened = func() {}

// lockCurrent takes a shared lock on f and reports whether f is still the regular file at
// path; with an owner, a file it just made is given to the owner.
func lockCurrent(f *os.File, path string, owner *Owner) (bool, error) {
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
		return false, err
	}
	var held, named unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &held); err != nil {
		return false, err
	}
	if held.Mode&unix.S_IFMT != unix.S_IFREG {
		return false, errors.New("the journal is not a regular file")
	}
	if err := unix.Lstat(path, &named); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return false, nil
		}
		return false, err
	}
	if held.Dev != named.Dev || held.Ino != named.Ino {
		return false, nil // an import took it (then it has no name, or one it gave it)
	}
	// A journal with another name is a file linked in its place: appending (and, under sudo,
	// giving it to the user) would change that other file.
	if held.Nlink != 1 {
		return false, errors.New("the journal has another name (a hard link)")
	}
	if owner != nil && (int(held.Uid) != owner.UID || int(held.Gid) != owner.GID) {
		if err := f.Chown(owner.UID, owner.GID); err != nil {
			return false, err
		}
	}
	return true, nil
}

// openJournalExclusive opens a claimed journal for reading once every append to it has ended;
// anything but a regular file of one name is errNotJournal.
func openJournalExclusive(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ELOOP) {
		return nil, errNotJournal
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 {
		f.Close()
		return nil, errNotJournal
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
