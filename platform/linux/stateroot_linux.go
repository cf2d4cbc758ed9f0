package linux

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/userdirs"
)

// DefaultStateRoot is where agentrun keeps its containers' state (their root skeletons, lock
// files): /run/agentrun for root, else under the user's runtime or cache directory, as
// [userdirs.CurrentRuntime] finds it. Never a shared directory such as /tmp.
func DefaultStateRoot() string { return DefaultRuntime().Dir }

// DefaultRuntime is the state root and where it sits: /run/user/UID counts only when it is
// the user's own and closed to others.
func DefaultRuntime() userdirs.Runtime {
	uid := os.Geteuid()
	return userdirs.CurrentRuntime(func(dir string) bool { return checkPrivateDir(dir, uid) == nil })
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
	def := DefaultRuntime()
	var made []string // the directories agentrun owns, outermost first
	switch {
	case uid == 0 || root != def.Dir:
		made = []string{root}
	case def.Kind == userdirs.RuntimeXDG:
		if err := checkPrivateDir(def.Base, uid); err != nil {
			return fmt.Errorf("%w: $XDG_RUNTIME_DIR %v; it must be a directory of your own with mode 0700 (the XDG base directory specification): fix it, or unset XDG_RUNTIME_DIR", errStateRoot, err)
		}
		made = []string{root}
	case def.Kind == userdirs.RuntimeCache:
		if err := os.MkdirAll(def.Base, 0o700); err != nil {
			return fmt.Errorf("creating agentrun's state directory: %w", err)
		}
		if err := checkLocal(def.Base); err != nil {
			return err
		}
		made = []string{def.Own(), root}
	default:
		made = []string{root}
	}
	for _, d := range made {
		if err := makePrivateDir(d, uid); err != nil {
			return err
		}
	}
	return nil
}

// makePrivateDir makes dir unless it is there, and checks it (checkPrivateDir). Another run
// that has just ended removes the state root when it is empty (with the run's last lock
// file): made again then.
func makePrivateDir(dir string, uid int) error {
	for try := 0; ; try++ {
		if err := unix.Mkdir(dir, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("creating agentrun's state directory %s: %w", dir, err)
		}
		raced("state root made")
		err := checkPrivateDir(dir, uid)
		if errors.Is(err, unix.ENOENT) && try < maxRaceTries {
			continue
		}
		if err != nil {
			return fmt.Errorf("%w: %v; remove it (it holds only agentrun's state for runs; another user may have made it to stop or watch yours) or set XDG_RUNTIME_DIR to a directory of your own (mode 0700)", errStateRoot, err)
		}
		return nil
	}
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
