package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// prepareFiles creates dir (0700, with any missing parents) and an empty database file
// (0600, rather than SQLite's 0644: events name files and commands), and with an owner
// hands both, and the parents it created, to the owner. Ownership is changed without
// following symbolic links, so a link planted in the directory cannot redirect it.
func prepareFiles(dir, path string, opts Options) error {
	owner := opts.Owner
	if err := prepareDir(dir, opts); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		if owner != nil {
			err = f.Chown(owner.UID, owner.GID)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("creating database file: %w", err)
		}
	case errors.Is(err, os.ErrExist):
		if owner != nil {
			if err := os.Lchown(path, owner.UID, owner.GID); err != nil {
				return fmt.Errorf("changing owner: %w", err)
			}
		}
	default:
		return fmt.Errorf("creating database file: %w", err)
	}
	return nil
}

// prepareDir makes dir (0700) and its missing parents, and gives them and dir to the owner;
// a directory pinned for the owner's identity exists and is theirs already (UserDir).
func prepareDir(dir string, opts Options) error {
	if opts.as != nil {
		return nil
	}
	owner := opts.Owner
	created := missingDirs(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating directory: %w", err)
	}
	if owner != nil {
		if len(created) == 0 || created[0] != dir {
			created = append([]string{dir}, created...)
		}
		for _, d := range created {
			if err := os.Lchown(d, owner.UID, owner.GID); err != nil {
				return fmt.Errorf("changing owner: %w", err)
			}
		}
	}
	return nil
}

// missingDirs is dir and those of its parents that do not exist yet, innermost first.
func missingDirs(dir string) []string {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); !errors.Is(err, os.ErrNotExist) {
			return missing
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			return missing
		}
	}
}
