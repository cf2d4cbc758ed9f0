package benchkit

import (
	"fmt"
	"os"
	osuser "os/user"
	"path/filepath"
	"strconv"
)

// User is an unprivileged user a benchmark runs commands as (-rootless), the way most people
// run agentrun.
type User struct {
	Name     string
	UID, GID int
	// Prefix runs a command as the user (setpriv), with a home of their own.
	Prefix []string
	// Home is that home, made beside the fixture (not in it: the fixture is the workspace).
	Home string
}

// AsUser looks name up and makes its home; dir, the fixture, is made traversable for it. The
// caller removes Home.
func AsUser(dir, name string) (*User, error) {
	u, err := osuser.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("-rootless %s: %w", name, err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	home, err := os.MkdirTemp(filepath.Dir(dir), "agentrun-bench-home-")
	if err != nil {
		return nil, err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(home, uid, gid); err != nil {
		os.RemoveAll(home)
		return nil, err
	}
	return &User{Name: name, UID: uid, GID: gid, Home: home,
		Prefix: []string{"setpriv", "--reuid=" + u.Uid, "--regid=" + u.Gid, "--init-groups",
			"env", "HOME=" + home, "XDG_STATE_HOME=" + filepath.Join(home, ".local/state"), "XDG_RUNTIME_DIR="},
	}, nil
}

// Own gives everything beneath dir (not following links) to the user: a fixture made as
// root that the user's commands write.
func (u *User) Own(dir string) error {
	return filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, u.UID, u.GID)
	})
}
