package store

import (
	"fmt"
	"sync"

	"github.com/agentrun/agentrun/userdirs"
)

// OpenUser opens the invoking user's event store, in [userdirs.Dirs.StoreDir]. Under sudo
// its files belong to that user, so `agentrun log` works without sudo afterwards.
func OpenUser() (*Store, error) {
	dir, opts, err := UserDir()
	if err != nil {
		return nil, err
	}
	st, err := Open(dir, opts)
	if err != nil {
		shown, _ := userdirs.CurrentDirs().StoreDir()
		return nil, fmt.Errorf("opening the event store in %s: %w (set XDG_STATE_HOME to a writable directory, or fix the permissions there)", shown, err)
	}
	return st, nil
}

// UserDir is the invoking user's store directory and the options OpenUser opens it with.
// Where agentrun runs as root for another user (sudo), the directory is made and opened with
// that user's file-system identity, must be theirs and writable by them alone, and is used
// through its open descriptor from then on (a /proc/self/fd path, the same for the whole
// process): a link they plant at or above it cannot send root's writes, nor the files root
// gives them, anywhere else.
func UserDir() (string, Options, error) {
	u, err := userStore()
	return u.dir, u.opts, err
}

type storeDir struct {
	dir  string
	opts Options
}

var userStore = sync.OnceValues(func() (storeDir, error) {
	inv := userdirs.Current()
	dir, err := userdirs.CurrentDirs().StoreDir()
	if err != nil {
		return storeDir{}, err
	}
	id := inv.FileIdentity()
	if id == nil {
		return storeDir{dir: dir}, nil
	}
	pinned, err := pinUserDir(dir, id)
	if err != nil {
		return storeDir{}, fmt.Errorf("the event store's directory %s: %w", dir, err)
	}
	return storeDir{dir: pinned, opts: Options{Owner: &Owner{UID: inv.UID, GID: inv.GID}, pinned: true, as: id}}, nil
})
