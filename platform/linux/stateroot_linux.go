package linux

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// DefaultStateRoot is where agentrun keeps its containers' state (their root skeletons, lock
// files, libcontainer's state): /run/agentrun for root; for other users
// $XDG_RUNTIME_DIR/agentrun, else /run/user/UID/agentrun when the login manager made that
// directory without saying so, else $XDG_CACHE_HOME/agentrun/run (~/.cache/agentrun/run).
// Never a shared directory such as /tmp, where another user could create it first.
func DefaultStateRoot() string {
	if os.Geteuid() == 0 {
		return "/run/agentrun"
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(d) {
		return filepath.Join(d, "agentrun")
	}
	if d := "/run/user/" + strconv.Itoa(os.Getuid()); checkPrivateDir(d, os.Geteuid()) == nil {
		return filepath.Join(d, "agentrun")
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if !filepath.IsAbs(cache) {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "agentrun", "run")
}

// errStateRoot marks a state directory that is not safely the user's own.
var errStateRoot = errors.New("agentrun's state directory is not safe to use")

// prepareStateRoot creates the state root and the directories agentrun makes above it when
// they are missing, and checks each, without following links: a directory agentrun uses
// must be the user's own and closed to everyone else (mode 0700), or another local user
// could stop the runs (a directory they own) or reach into them (one they can write).
// $XDG_RUNTIME_DIR itself must be the user's and 0700, as the XDG specification says.
// Where the state root is under the home directory, that file system must be local: the
// container's root is made there and mounted over.
func prepareStateRoot(root string) error {
	uid := os.Geteuid()
	if root == "" {
		return fmt.Errorf("%w: no home directory to keep it in; set XDG_RUNTIME_DIR to a directory of your own (mode 0700)", errStateRoot)
	}
	rt := os.Getenv("XDG_RUNTIME_DIR")
	var made []string // the directories agentrun owns, outermost first
	switch {
	case uid == 0 || root != DefaultStateRoot():
		made = []string{root}
	case filepath.IsAbs(rt) && filepath.Dir(root) == filepath.Clean(rt):
		if err := checkPrivateDir(rt, uid); err != nil {
			return fmt.Errorf("%w: $XDG_RUNTIME_DIR %v; it must be a directory of your own with mode 0700 (the XDG base directory specification): fix it, or unset XDG_RUNTIME_DIR", errStateRoot, err)
		}
		made = []string{root}
	case filepath.Base(root) == "run" && filepath.Base(filepath.Dir(root)) == "agentrun":
		cache := filepath.Dir(filepath.Dir(root))
		if err := os.MkdirAll(cache, 0o700); err != nil {
			return fmt.Errorf("creating agentrun's state directory: %w", err)
		}
		if err := checkLocal(cache); err != nil {
			return err
		}
		made = []string{filepath.Dir(root), root}
	default:
		made = []string{root}
	}
	for _, d := range made {
		if err := unix.Mkdir(d, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("creating agentrun's state directory %s: %w", d, err)
		}
		if err := checkPrivateDir(d, uid); err != nil {
			return fmt.Errorf("%w: %v; remove it (it holds only agentrun's state for runs; another user may have made it to stop or watch yours) or set XDG_RUNTIME_DIR to a directory of your own (mode 0700)", errStateRoot, err)
		}
	}
	return nil
}

// checkPrivateDir checks, without following a link, that path is a directory owned by uid
// that no one else may enter.
func checkPrivateDir(path string, uid int) error {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return fmt.Errorf("%s is a symbolic link", path)
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return fmt.Errorf("%s is not a directory", path)
	case int(st.Uid) != uid:
		return fmt.Errorf("%s belongs to uid %d, not to you (uid %d)", path, st.Uid, uid)
	case st.Mode&0o077 != 0:
		return fmt.Errorf("%s has mode %04o; only you may have access (0700)", path, st.Mode&0o7777)
	}
	return nil
}

// Network file systems, by statfs magic: the container's root cannot be made on them.
var networkFS = map[int64]string{
	0x6969:     "NFS",
	0xff534d42: "CIFS",
	0xfe534d42: "SMB2",
	0x517b:     "SMB",
	0x65735546: "FUSE",
	0x47504653: "GPFS",
	0x0bd00bd0: "Lustre",
	0x013111a8: "IBRIX",
	0x5346414f: "AFS",
	0x00c36400: "CephFS",
}

// checkLocal refuses a directory on a network file system.
func checkLocal(dir string) error {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return fmt.Errorf("checking the file system of %s: %w", dir, err)
	}
	if name, ok := networkFS[int64(fs.Type)]; ok {
		return fmt.Errorf("%w: %s is on %s, and the sandbox's root is made and mounted over there; set XDG_RUNTIME_DIR to a local directory of your own (mode 0700), such as one systemd-logind makes under /run/user", errStateRoot, dir, name)
	}
	return nil
}
