package linux

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Where a tree the agent needs cannot be idmapped, agentrun grants the agent's uid access to
// it with POSIX ACL entries instead, for the run, and takes them back afterwards (see
// grantUnmappable). Only entries for agentUID are added or removed: no host user has that uid.

// errNoACL is a file system that supports no POSIX ACLs either (ramfs).
var errNoACL = errors.New("the file system supports no POSIX ACLs")

// grantTree gives uid, on every directory and regular file of the tree at path, read (and
// search, and execute where the mode has an execute bit) and, with write, write access; the
// directories of a written tree also get a default entry, so that what is created in them
// inherits it.
func grantTree(path string, uid uint32, write bool) error {
	return walkTree(path, treeVisitor{file: func(fd int, st *unix.Statx_t) error {
		dir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		perm := uint16(4)
		if write {
			perm |= 2
		}
		if dir || st.Mode&0o111 != 0 {
			perm |= 1
		}
		if err := editACL(fd, aclAccessXattr, st.Mode, func(a acl) acl { return a.withUser(uid, perm) }); err != nil {
			return fmt.Errorf("granting the agent %s: %w", path, err)
		}
		if dir && write {
			if err := editACL(fd, aclDefaultXattr, st.Mode, func(a acl) acl { return a.withUser(uid, 7) }); err != nil {
				return fmt.Errorf("granting the agent %s: %w", path, err)
			}
		}
		return nil
	}})
}

// revokeTree removes uid's ACL entries (access and default) from every directory and regular
// file of the tree at path, and gives what uid owns there (links too, not followed) to owner,
// its group to group.
func revokeTree(path string, uid uint32, owner, group int) error {
	giveBack := func(st *unix.Statx_t, chown func(u, g int) error) error {
		u, g := -1, -1
		if st.Uid == uid {
			u = owner
		}
		if st.Gid == uid {
			g = group
		}
		if u == -1 && g == -1 {
			return nil
		}
		return chown(u, g)
	}
	other := func(dir int, name string, st *unix.Statx_t) error {
		err := giveBack(st, func(u, g int) error { return unix.Fchownat(dir, name, u, g, unix.AT_SYMLINK_NOFOLLOW) })
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("giving %s, in %s, back to its owner: %w", name, path, err)
		}
		return nil
	}
	return walkTree(path, treeVisitor{other: other, file: func(fd int, st *unix.Statx_t) error {
		if err := revokeACL(fd, aclAccessXattr, uid, st.Mode); err != nil {
			return fmt.Errorf("taking back the agent's access to %s: %w", path, err)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			if err := revokeACL(fd, aclDefaultXattr, uid, st.Mode); err != nil {
				return fmt.Errorf("taking back the agent's access to %s: %w", path, err)
			}
		}
		if err := giveBack(st, func(u, g int) error { return unix.Fchown(fd, u, g) }); err != nil {
			return fmt.Errorf("giving %s back to its owner: %w", path, err)
		}
		return nil
	}})
}

// getACL reads the ACL of fd in xattr name; nil when it has none.
func getACL(fd int, name string) (acl, error) {
	for {
		n, err := unix.Fgetxattr(fd, name, nil)
		if errors.Is(err, unix.ENODATA) {
			return nil, nil
		}
		if err != nil {
			return nil, aclErr(err)
		}
		buf := make([]byte, n)
		m, err := unix.Fgetxattr(fd, name, buf)
		if errors.Is(err, unix.ERANGE) {
			continue // grew meanwhile
		}
		if err != nil {
			return nil, aclErr(err)
		}
		return parseACL(buf[:m])
	}
}

// editACL sets fd's ACL in xattr name to edit of what it is (or of the one its mode stands
// for, when it has none).
func editACL(fd int, name string, mode uint16, edit func(acl) acl) error {
	a, err := getACL(fd, name)
	if err != nil {
		return err
	}
	if a == nil {
		a = aclFromMode(uint32(mode))
	}
	return aclErr(unix.Fsetxattr(fd, name, edit(a).bytes(), 0))
}

// revokeACL removes uid's entry from fd's ACL in xattr name. An access ACL left with no named
// entry goes, its permissions back in the mode; so does a default ACL left with none (a
// default ACL of only the three mode entries, which agentrun cannot tell from one it made,
// is removed too).
func revokeACL(fd int, name string, uid uint32, mode uint16) error {
	a, err := getACL(fd, name)
	if err != nil || a == nil {
		return err
	}
	out, changed := a.withoutUser(uid)
	if !changed {
		return nil
	}
	if !out.minimal() {
		return aclErr(unix.Fsetxattr(fd, name, out.bytes(), 0))
	}
	if err := unix.Fremovexattr(fd, name); err != nil && !errors.Is(err, unix.ENODATA) {
		return aclErr(err)
	}
	if name != aclAccessXattr {
		return nil
	}
	perm := uint32(mode) &^ 0o777
	for _, e := range out {
		switch e.Tag {
		case aclUserObj:
			perm |= uint32(e.Perm) << 6
		case aclGroupObj:
			perm |= uint32(e.Perm) << 3
		case aclOther:
			perm |= uint32(e.Perm)
		}
	}
	return unix.Fchmod(fd, perm)
}

func aclErr(err error) error {
	if errors.Is(err, unix.EOPNOTSUPP) {
		return fmt.Errorf("%w (%w)", errNoACL, err)
	}
	return err
}
