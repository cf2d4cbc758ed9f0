package profiles

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrTooLarge is ReadFileBounded's error for a file past its bound.
var ErrTooLarge = errors.New("file too large")

// ReadFileBounded reads a file the user named, at most max bytes of it: a profile, a report.
// What has no end, or is no file's content, is refused before it is read: a directory, a
// device (/dev/zero would be read until memory ran out), a socket. A pipe (a shell's
// `<(command)`) is read to its end; a named pipe without a writer reads as empty, not as a
// wait for ever. Past max it fails with ErrTooLarge, saying the size where it is known.
func ReadFileBounded(name string, max int64) ([]byte, error) {
	// Non-blocking, so that opening a named pipe does not wait for its writer; Go's poller
	// then waits for the data of a pipe that has one, and reads of a file are unaffected.
	f, err := os.OpenFile(name, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch m := fi.Mode(); {
	case m.IsDir():
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	case m&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeSocket|fs.ModeIrregular) != 0:
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a device or a socket, not a file")}
	case m.IsRegular() && fi.Size() > max:
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, fi.Size(), max)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return b, nil
}
