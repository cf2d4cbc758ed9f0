//go:build unix

package store

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"

	"github.com/agentrun/agentrun/platform/safefs"
	"golang.org/x/sys/unix"
)

// openWindows opens the windows file at p for reading: a regular file, not through a link,
// without blocking on a FIFO in its place.
func openWindows(p string) (*os.File, error) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	f := os.NewFile(uintptr(fd), p)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: p, Err: errNotJournal}
	}
	return f, nil
}

// openWindowsExclusive opens the windows file at p once no append to it is under way, as an
// import opens a journal.
func openWindowsExclusive(p string) (*os.File, error) { return openJournalExclusive(p) }

// replaceFile puts data at p in one rename: a new file (0600, given to owner) beside it.
func replaceFile(p string, data []byte, owner *Owner) error {
	uid, gid := -1, -1
	if owner != nil {
		uid, gid = owner.UID, owner.GID
	}
	return safefs.ReplaceFile(p, data, 0o600, uid, gid)
}

// processAlive reports whether pid is still the process that started at start (its start
// time in clock ticks since boot, /proc/PID/stat's 22nd field; 0 where there is no /proc).
func processAlive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	if start != 0 {
		got, err := ProcessStart(pid)
		return err == nil && got == start
	}
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// ProcessStart is pid's start time in clock ticks since boot, from /proc/PID/stat (0 and an
// error where there is none).
func ProcessStart(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces and parentheses: fields count from
	// the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 20 {
		return 0, errors.New("malformed /proc stat")
	}
	return strconv.ParseUint(fields[19], 10, 64) // field 22: the third is fields[0]
}
