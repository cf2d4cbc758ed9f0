package userdirs

import (
	"errors"
	"fmt"
	"path/filepath"
)

// ErrNoHome says that a directory agentrun needs could not be found: there is no home
// directory to put it under and no XDG variable that names it.
var ErrNoHome = errors.New("no home directory")

// Dirs are the invoking user's base directories, as the XDG base directory specification
// defines them. A field is "" when it cannot be found: no absolute home directory and no
// absolute XDG variable for it (RuntimeDir has no default).
type Dirs struct {
	Home       string // the invoking user's home directory
	ConfigHome string // $XDG_CONFIG_HOME, else Home/.config
	DataHome   string // $XDG_DATA_HOME, else Home/.local/share
	StateHome  string // $XDG_STATE_HOME, else Home/.local/state
	CacheHome  string // $XDG_CACHE_HOME, else Home/.cache
	RuntimeDir string // $XDG_RUNTIME_DIR; "" when unset, and under sudo
}

// CurrentDirs are the base directories of the Current invoker, read from the environment
// at each call.
func CurrentDirs() Dirs { return dirs(Current(), osProcess()) }

// dirs resolves inv's base directories. Under sudo the environment is root's: only inv's
// home counts, and the defaults under it.
func dirs(inv Invoker, p process) Dirs {
	getenv, home := p.getenv, inv.SudoHome()
	if inv.Sudo {
		getenv = func(string) string { return "" }
	} else if h, err := p.homeDir(); err == nil {
		home = h
	}
	if !filepath.IsAbs(home) {
		home = ""
	}
	xdg := func(name, def string) string {
		if v := getenv(name); filepath.IsAbs(v) {
			return filepath.Clean(v)
		}
		return def
	}
	return Dirs{
		Home:       home,
		ConfigHome: xdg("XDG_CONFIG_HOME", join(home, ".config")),
		DataHome:   xdg("XDG_DATA_HOME", join(home, ".local", "share")),
		StateHome:  xdg("XDG_STATE_HOME", join(home, ".local", "state")),
		CacheHome:  xdg("XDG_CACHE_HOME", join(home, ".cache")),
		RuntimeDir: xdg("XDG_RUNTIME_DIR", ""),
	}
}

// ConfigDir is agentrun's configuration directory, $XDG_CONFIG_HOME/agentrun, or "".
func (d Dirs) ConfigDir() string { return join(d.ConfigHome, "agentrun") }

// ProfilesDir is where the user's own profiles live, $XDG_CONFIG_HOME/agentrun/profiles,
// or "".
func (d Dirs) ProfilesDir() string { return join(d.ConfigHome, "agentrun", "profiles") }

// StoreDir is the directory of the user's event store, $XDG_STATE_HOME/agentrun.
func (d Dirs) StoreDir() (string, error) {
	if d.StateHome == "" {
		return "", fmt.Errorf("finding the event store: %w (set HOME, or XDG_STATE_HOME)", ErrNoHome)
	}
	return filepath.Join(d.StateHome, "agentrun"), nil
}

// join is filepath.Join that keeps an unknown base unknown.
func join(base string, elem ...string) string {
	if base == "" {
		return ""
	}
	return filepath.Join(append([]string{base}, elem...)...)
}
