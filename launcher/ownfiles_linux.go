package launcher

import (
	"errors"
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// mkdirOwned creates dir and its missing parents (0700), each inside a directory that uid
// owns, without following links, and gives them to uid:gid.
func mkdirOwned(dir string, uid, gid int) error {
	var missing []string
	d := dir
	for {
		var st unix.Stat_t
		err := unix.Stat(d, &st)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.ENOENT) || filepath.Dir(d) == d {
			return err
		}
		missing = append([]string{filepath.Base(d)}, missing...)
		d = filepath.Dir(d)
	}
	if len(missing) == 0 {
		return nil
	}
	fd, err := unix.Open(d, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer func() { unix.Close(fd) }()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if int(st.Uid) != uid {
		return fmt.Errorf("%s belongs to uid %d, not to the user agentrun runs for (uid %d); create %s yourself", d, st.Uid, uid, dir)
	}
	for _, name := range missing {
		err := unix.Mkdirat(fd, name, 0o700)
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return err
		}
		created := err == nil
		var next int
		next, err = unix.Openat(fd, name, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		unix.Close(fd)
		fd = next
		if created {
			if err := unix.Fchown(fd, uid, gid); err != nil {
				return err
			}
		}
	}
	return nil
}
