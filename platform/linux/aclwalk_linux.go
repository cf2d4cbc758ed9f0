package linux

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/rootfs"
)

// treeVisitor is what walkTree calls: file for each directory and regular file, as a
// descriptor of it; other, when set, for anything else (links among them), as its name in
// its directory.
type treeVisitor struct {
	file  func(fd int, st *unix.Statx_t) error
	other func(dir int, name string, st *unix.Statx_t) error
}

// walkTree visits the tree at path (opened without following any link) and, when it is a
// directory, everything beneath it on the same mount: no link is followed, no path is
// resolved again, nothing but directories and regular files is opened, and no other mount is
// entered. A path the host does not have is no tree: nothing is visited.
func walkTree(path string, v treeVisitor) error {
	fd, err := rootfs.OpenNoLinks(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening %s without following links: %w", path, err)
	}
	defer unix.Close(fd)
	st, err := statFD(fd)
	if err != nil {
		return fmt.Errorf("examining %s: %w", path, err)
	}
	return visit(fd, st, st.Mnt_id, path, v)
}

func visit(fd int, st *unix.Statx_t, mnt uint64, path string, v treeVisitor) error {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return v.file(fd, st)
	case unix.S_IFDIR:
	default:
		return nil
	}
	if err := v.file(fd, st); err != nil {
		return err
	}
	names, err := readNames(fd)
	if err != nil {
		return fmt.Errorf("listing %s: %w", path, err)
	}
	for _, name := range names {
		if err := visitChild(fd, name, mnt, path+"/"+name, v); err != nil {
			return err
		}
	}
	return nil
}

// visitChild opens the directory or regular file name in dir, unless it is on another mount,
// and visits it; anything else it visits by name.
func visitChild(dir int, name string, mnt uint64, path string, v treeVisitor) error {
	var pre unix.Statx_t
	if err := unix.Statx(dir, name, unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT, unix.STATX_TYPE|unix.STATX_UID|unix.STATX_GID|unix.STATX_MNT_ID, &pre); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil // gone meanwhile
		}
		return fmt.Errorf("examining %s: %w", path, err)
	}
	if pre.Mnt_id != mnt {
		return nil
	}
	flags := unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC
	switch pre.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		flags |= unix.O_DIRECTORY
	case unix.S_IFREG:
	default:
		if v.other != nil {
			return v.other(dir, name, &pre)
		}
		return nil
	}
	fd, err := unix.Openat(dir, name, flags, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ELOOP) {
			return nil // gone, or replaced by a link, meanwhile
		}
		return fmt.Errorf("opening %s: %w", path, err)
	}
	defer unix.Close(fd)
	st, err := statFD(fd)
	if err != nil {
		return fmt.Errorf("examining %s: %w", path, err)
	}
	if st.Mnt_id != mnt || st.Mode&unix.S_IFMT != pre.Mode&unix.S_IFMT {
		return nil
	}
	return visit(fd, st, mnt, path, v)
}

func statFD(fd int) (*unix.Statx_t, error) {
	var st unix.Statx_t
	err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_TYPE|unix.STATX_MODE|unix.STATX_UID|unix.STATX_GID|unix.STATX_MNT_ID, &st)
	return &st, err
}

// readNames lists the directory dir (its own offset: dir is read once).
func readNames(dir int) ([]string, error) {
	var names []string
	buf := make([]byte, 32<<10)
	for {
		n, err := unix.Getdents(dir, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
}
