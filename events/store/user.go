package store

import (
	"fmt"
	"os"

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
		return nil, fmt.Errorf("opening the event store in %s: %w (set XDG_STATE_HOME to a writable directory, or fix the permissions there)", dir, err)
	}
	return st, nil
}

// UserDir is the invoking user's store directory and the options OpenUser opens it with.
func UserDir() (string, Options, error) {
	inv := userdirs.Current()
	var opts Options
	if os.Geteuid() == 0 && inv.UID != 0 {
		opts.Owner = &Owner{UID: inv.UID, GID: inv.GID}
	}
	dir, err := userdirs.CurrentDirs().StoreDir()
	return dir, opts, err
}
