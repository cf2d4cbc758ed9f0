package store

import (
	"fmt"
	"sync"

	"github.com/agentrun/agentrun/platform/safefs"
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
// through its open descriptor from then on (a /proc/self/fd path, one per directory for the
// whole process): a link they plant at or above it cannot send root's writes, nor the files
// root gives them, anywhere else.
func UserDir() (string, Options, error) {
	inv := userdirs.Current()
	dir, err := userdirs.CurrentDirs().StoreDir()
	if err != nil {
		return "", Options{}, err
	}
	id := inv.FileIdentity()
	if id == nil {
		return dir, Options{}, nil
	}
	p, err := pinned(dir, id)
	if err != nil {
		return "", Options{}, fmt.Errorf("the event store's directory %s: %w", dir, err)
	}
	return p, Options{Owner: &Owner{UID: inv.UID, GID: inv.GID}, as: id}, nil
}

// pins are the directories pinUserDir opened, by path: each is opened once per process.
var pins struct {
	sync.Mutex
	m map[string]string
}

func pinned(dir string, id *safefs.Identity) (string, error) {
	pins.Lock()
	defer pins.Unlock()
	if p, ok := pins.m[dir]; ok {
		return p, nil
	}
	p, err := pinUserDir(dir, id)
	if err != nil {
		return "", err // not kept: the user may mend it while agentrun runs
	}
	if pins.m == nil {
		pins.m = map[string]string{}
	}
	pins.m[dir] = p
	return p, nil
}
