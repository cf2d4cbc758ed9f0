package launcher

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/agentrun/agentrun/events/store"
)

// StoreDir is the invoking user's event store: $XDG_STATE_HOME/agentrun, or
// ~/.local/state/agentrun (under sudo, the home of the user who ran sudo).
func StoreDir() (string, error) {
	home := CurrentInvoker().SudoHome()
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	if !filepath.IsAbs(home) && !filepath.IsAbs(os.Getenv("XDG_STATE_HOME")) {
		return "", fmt.Errorf("finding the event store: no home directory (set HOME, or XDG_STATE_HOME)")
	}
	return store.DefaultDir(home), nil
}

// OpenStore opens the invoking user's event store. Under sudo its files belong to that user,
// so `agentrun log` works without sudo afterwards.
func OpenStore() (*store.Store, error) {
	inv := CurrentInvoker()
	var opts store.Options
	if os.Geteuid() == 0 && inv.UID != 0 {
		opts.Owner = &store.Owner{UID: inv.UID, GID: inv.GID}
	}
	dir, err := StoreDir()
	if err != nil {
		return nil, err
	}
	st, err := store.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("opening the event store in %s: %w (set XDG_STATE_HOME to a writable directory, or fix the permissions there)", dir, err)
	}
	return st, nil
}
