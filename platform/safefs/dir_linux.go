//go:build linux

package safefs

import (
	"bytes"
	"io/fs"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Dir is a directory beneath a Root, open for listing into a buffer the caller reuses: a walk
// of a large tree then makes no allocation for each file it passes.
type Dir struct {
	fd  int
	rel string // for errors: the path beneath the root it was opened as
	r   *Root
}

// OpenDir opens the directory rel for listing.
func (r *Root) OpenDir(rel string) (*Dir, error) {
	fd, err := r.openat(rel, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, r.errorf("open", rel, err)
	}
	return &Dir{fd: fd, rel: rel, r: r}, nil
}

// Entries calls fn with the name and type (fs.ModeDir, fs.ModeSymlink, 0 for a regular file,
// fs.ModeIrregular for anything else) of each of d's entries but "." and "..", in the order
// the file system gives them; name is valid only during the call. buf holds the listing as it
// is read (8 KiB or more is best) and is the caller's to reuse.
func (d *Dir) Entries(buf []byte, fn func(name []byte, typ fs.FileMode)) error {
	for {
		n, err := unix.Getdents(d.fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return d.r.errorf("readdir", d.rel, err)
		}
		if n <= 0 {
			return nil
		}
		for off := 0; off+19 <= n; {
			// struct linux_dirent64: d_ino 8, d_off 8, d_reclen 2, d_type 1, d_name.
			reclen := int(*(*uint16)(unsafe.Pointer(&buf[off+16])))
			if reclen < 20 || off+reclen > n {
				return d.r.errorf("readdir", d.rel, unix.EIO)
			}
			name := buf[off+19 : off+reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			typ := buf[off+18]
			off += reclen
			if len(name) == 0 || string(name) == "." || string(name) == ".." {
				continue
			}
			m, err := d.typeOf(name, typ)
			if err == unix.ENOENT {
				continue // gone since the listing
			}
			if err != nil {
				return d.r.errorf("lstat", d.rel+"/"+string(name), err)
			}
			fn(name, m)
		}
	}
}

// typeOf is an entry's type from its d_type, or, where the file system gives none, from an
// lstat of it (a stat's file type is a d_type shifted: IFTODT).
func (d *Dir) typeOf(name []byte, typ uint8) (fs.FileMode, error) {
	if typ == unix.DT_UNKNOWN {
		var st unix.Stat_t
		if err := unix.Fstatat(d.fd, string(name), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return 0, err
		}
		typ = uint8(st.Mode & unix.S_IFMT >> 12)
	}
	switch typ {
	case unix.DT_DIR:
		return fs.ModeDir, nil
	case unix.DT_LNK:
		return fs.ModeSymlink, nil
	case unix.DT_REG:
		return 0, nil
	}
	return fs.ModeIrregular, nil
}

// Close releases the directory's descriptor.
func (d *Dir) Close() error { return unix.Close(d.fd) }
