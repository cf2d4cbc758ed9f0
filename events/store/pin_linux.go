package store

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/safefs"
)

// pinUserDir makes dir with id's file-system identity (so that a link id planted leads only
// where id may write), opens it as id, checks that it is id's and writable by id alone, and
// returns the path of the open descriptor, kept open for the life of the process. Root's
// later steps in it — creating the database, giving its files to id — then stay in that
// directory whatever is renamed or linked on the way to it.
func pinUserDir(dir string, id *safefs.Identity) (string, error) {
	fd := -1
	err := safefs.AsUser(id, func() error {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("%w; it must be a directory of yours", err)
		}
		var err error
		fd, err = unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return "", err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return "", err
	}
	if int(st.Uid) != id.UID || st.Mode&0o022 != 0 {
		unix.Close(fd)
		return "", fmt.Errorf("%w: it belongs to uid %d with mode %#o; it must be yours (uid %d) and writable by you alone", errNotOwnDir, st.Uid, st.Mode&0o7777, id.UID)
	}
	return fmt.Sprintf("/proc/self/fd/%d", fd), nil
}

var errNotOwnDir = errors.New("not a directory of your own")
