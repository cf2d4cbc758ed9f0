//go:build linux

package safefs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// resolveFlags keep every lookup beneath the root and away from links of any kind.
const resolveFlags = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// Root is a directory, held open, that paths are resolved beneath.
type Root struct {
	fd   int
	path string
}

// OpenRoot opens the directory at path (its own path is resolved as usual: it is the
// user's, named before the agent ran) to resolve paths beneath it later.
func OpenRoot(path string) (*Root, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return &Root{fd: fd, path: path}, nil
}

// Path is the root's path as it was opened.
func (r *Root) Path() string { return r.path }

// Close releases the root's descriptor.
func (r *Root) Close() error { return unix.Close(r.fd) }

func (r *Root) errorf(op, rel string, err error) error {
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) {
		err = fmt.Errorf("%w (%v)", ErrUnsafePath, err)
	}
	return &fs.PathError{Op: op, Path: r.path + "/" + rel, Err: err}
}

// openat resolves rel beneath the root with openat2, or, where the kernel has no openat2
// (before 5.6), one component at a time with O_NOFOLLOW, which refuses the same links.
func (r *Root) openat(rel string, flags int, mode uint32) (int, error) {
	rel, err := clean(rel)
	if err != nil {
		return -1, err
	}
	how := &unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC | unix.O_NOFOLLOW), Mode: uint64(mode), Resolve: resolveFlags}
	for {
		fd, err := unix.Openat2(r.fd, rel, how)
		switch {
		case err == unix.EINTR || err == unix.EAGAIN:
			continue // EAGAIN: a rename elsewhere raced the lookup
		case err == unix.ENOSYS:
			return r.openByComponent(rel, flags, mode)
		}
		return fd, err
	}
}

func (r *Root) openByComponent(rel string, flags int, mode uint32) (int, error) {
	dir, err := unix.Dup(r.fd)
	if err != nil {
		return -1, err
	}
	if rel == "." {
		defer unix.Close(dir)
		return unix.Openat(dir, ".", flags|unix.O_CLOEXEC, mode)
	}
	parts := strings.Split(rel, "/")
	for i, p := range parts {
		if p == ".." {
			unix.Close(dir)
			return -1, ErrUnsafePath
		}
		var fd int
		if i == len(parts)-1 {
			fd, err = unix.Openat(dir, p, flags|unix.O_CLOEXEC|unix.O_NOFOLLOW, mode)
		} else {
			fd, err = unix.Openat(dir, p, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		}
		unix.Close(dir)
		if err != nil {
			if err == unix.ENOTDIR && i < len(parts)-1 {
				var st unix.Stat_t // a link in the middle: say so as openat2 would
				if unix.Fstatat(r.fd, strings.Join(parts[:i+1], "/"), &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
					err = unix.ELOOP
				}
			}
			return -1, err
		}
		dir = fd
	}
	return dir, nil
}

// parent opens the directory holding rel and returns it with rel's last element.
func (r *Root) parent(rel string) (int, string, error) {
	c, err := clean(rel)
	if err != nil {
		return -1, "", err
	}
	if c == "." {
		return -1, "", ErrUnsafePath // the root itself has no parent beneath the root
	}
	dir, name := split(c)
	fd, err := r.openat(dir, unix.O_PATH|unix.O_DIRECTORY, 0)
	return fd, name, err
}

// OpenFile opens rel beneath the root. O_NOFOLLOW is always added: a link at rel is an
// error too. With id, the file is opened (and created) with that user's rights.
func (r *Root) OpenFile(rel string, flag int, perm os.FileMode, id *Identity) (*os.File, error) {
	var f *os.File
	err := AsUser(id, func() error {
		fd, err := r.openat(rel, flag, uint32(perm.Perm()))
		if err != nil {
			return r.errorf("open", rel, err)
		}
		f = os.NewFile(uintptr(fd), r.path+"/"+rel)
		return nil
	})
	return f, err
}

// ReadFile reads the regular file at rel, at most max bytes (more is an error). It does
// not block on a FIFO the agent left there.
func (r *Root) ReadFile(rel string, max int64) ([]byte, error) {
	fd, err := r.openat(rel, unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, r.errorf("open", rel, err)
	}
	return readRegular(os.NewFile(uintptr(fd), r.path+"/"+rel), max)
}

// ReadHostFile reads the regular file at the host path p, links followed: a file of the
// user's that agentrun only reads. At most max bytes (more is an error); it does not block on
// a FIFO.
func ReadHostFile(p string, max int64) ([]byte, error) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	return readRegular(os.NewFile(uintptr(fd), p), max)
}

// readRegular reads f, a regular file, at most max bytes, and closes it.
func readRegular(f *os.File, max int64) ([]byte, error) {
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: f.Name(), Err: errors.New("not a regular file")}
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: f.Name(), Err: err}
	}
	if int64(len(b)) > max {
		return nil, &fs.PathError{Op: "read", Path: f.Name(), Err: fmt.Errorf("larger than %d bytes", max)}
	}
	return b, nil
}

// Lstat describes rel itself (a link is described, not followed); the directories on the
// way must not be links.
func (r *Root) Lstat(rel string) (fs.FileInfo, error) {
	c, err := clean(rel)
	if err != nil {
		return nil, r.errorf("lstat", rel, err)
	}
	if c == "." {
		fd, err := unix.Dup(r.fd)
		if err != nil {
			return nil, err
		}
		f := os.NewFile(uintptr(fd), r.path)
		defer f.Close()
		return f.Stat()
	}
	dir, name, err := r.parent(c)
	if err != nil {
		return nil, r.errorf("lstat", rel, err)
	}
	defer unix.Close(dir)
	var st unix.Stat_t
	if err := unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, r.errorf("lstat", rel, err)
	}
	return fileInfo{name: name, st: st}, nil
}

// Readlink is the target of the symbolic link rel (not followed); the directories on the way
// must not be links.
func (r *Root) Readlink(rel string) (string, error) {
	dir, name, err := r.parent(rel)
	if err != nil {
		return "", r.errorf("readlink", rel, err)
	}
	defer unix.Close(dir)
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dir, name, buf)
	if err != nil {
		return "", r.errorf("readlink", rel, err)
	}
	return string(buf[:n]), nil
}

// UnlockDir gives the directory rel, when its owner is id's user (nil: this process's), its
// owner's read, write and search permissions (u+rwx) and reports whether it changed them; rel
// itself is never followed as a link. An agent that made one of the user's directories
// unreadable or unwritable hid its contents from a walk, or kept what it planted there from
// being moved aside — not from a user who enters it by name.
func (r *Root) UnlockDir(rel string, id *Identity) (bool, error) {
	fd, err := r.openat(rel, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return false, r.errorf("open", rel, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return false, r.errorf("stat", rel, err)
	}
	owner := os.Geteuid()
	if id != nil {
		owner = id.UID
	}
	if int(st.Uid) != owner || st.Mode&0o700 == 0o700 {
		return false, nil
	}
	// The descriptor's magic link names the very directory opened, whatever is renamed since.
	if err := unix.Chmod("/proc/self/fd/"+strconv.Itoa(fd), st.Mode&0o7777|0o700); err != nil {
		return false, r.errorf("chmod", rel, err)
	}
	return true, nil
}

// Ctime is when rel's inode last changed (content, mode, links, or a rename), in Unix
// nanoseconds. Nothing in user space can set it back.
func (r *Root) Ctime(rel string) (int64, error) {
	fi, err := r.Lstat(rel)
	if err != nil {
		return 0, err
	}
	st := fi.Sys().(*unix.Stat_t)
	return st.Ctim.Nano(), nil
}

// ReadDir lists the directory at rel, sorted by name.
func (r *Root) ReadDir(rel string) ([]fs.DirEntry, error) {
	ents, err := r.readDirUnsorted(rel)
	sortEntries(ents)
	return ents, err
}

// readDirUnsorted lists the directory at rel in the order the file system gives.
func (r *Root) readDirUnsorted(rel string) ([]fs.DirEntry, error) {
	fd, err := r.openat(rel, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, r.errorf("open", rel, err)
	}
	f := os.NewFile(uintptr(fd), r.path+"/"+rel)
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return nil, r.errorf("readdir", rel, err)
	}
	return ents, nil
}

// Rename moves oldRel to newRel, both beneath the root, and fails if newRel exists. With
// id, it is done with that user's rights.
func (r *Root) Rename(oldRel, newRel string, id *Identity) error {
	return AsUser(id, func() error {
		od, oname, err := r.parent(oldRel)
		if err != nil {
			return r.errorf("rename", oldRel, err)
		}
		defer unix.Close(od)
		nd, nname, err := r.parent(newRel)
		if err != nil {
			return r.errorf("rename", newRel, err)
		}
		defer unix.Close(nd)
		if err := unix.Renameat2(od, oname, nd, nname, unix.RENAME_NOREPLACE); err != nil {
			return r.errorf("rename", oldRel, err)
		}
		return nil
	})
}

// WriteFile replaces rel with data atomically: a new file beside it, then a rename over
// it. The new file gets perm, or the old file's permissions when it exists. With id, the
// file is created with that user's rights, so it is theirs.
func (r *Root) WriteFile(rel string, data []byte, perm os.FileMode, id *Identity) error {
	return AsUser(id, func() error {
		dir, name, err := r.parent(rel)
		if err != nil {
			return r.errorf("write", rel, err)
		}
		defer unix.Close(dir)
		var st unix.Stat_t
		if err := unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
			perm = os.FileMode(st.Mode & 0o7777)
		}
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		tmp := "." + name + ".agentrun-" + hex.EncodeToString(b)
		fd, err := unix.Openat(dir, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return r.errorf("write", rel, err)
		}
		f := os.NewFile(uintptr(fd), tmp)
		_, err = f.Write(data)
		if err == nil {
			err = f.Chmod(perm.Perm())
		}
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = unix.Renameat(dir, tmp, dir, name)
		}
		if err != nil {
			_ = unix.Unlinkat(dir, tmp, 0)
			return r.errorf("write", rel, err)
		}
		return nil
	})
}

// MkdirAll creates rel and its missing parents beneath the root with perm, each created
// directory owned by id when given (it is created with id's rights).
func (r *Root) MkdirAll(rel string, perm os.FileMode, id *Identity) error {
	c, err := clean(rel)
	if err != nil {
		return r.errorf("mkdir", rel, err)
	}
	if c == "." {
		return nil
	}
	return AsUser(id, func() error {
		parts := strings.Split(c, "/")
		for i := range parts {
			sub := strings.Join(parts[:i+1], "/")
			dir, name, err := r.parent(sub)
			if err != nil {
				return r.errorf("mkdir", sub, err)
			}
			err = unix.Mkdirat(dir, name, uint32(perm.Perm()))
			unix.Close(dir)
			if err != nil && err != unix.EEXIST {
				return r.errorf("mkdir", sub, err)
			}
			// Whatever is there now must be a directory reached without a link.
			fd, err := r.openat(sub, unix.O_PATH|unix.O_DIRECTORY, 0)
			if err != nil {
				return r.errorf("mkdir", sub, err)
			}
			unix.Close(fd)
		}
		return nil
	})
}

// fileInfo is an fs.FileInfo from a Stat_t.
type fileInfo struct {
	name string
	st   unix.Stat_t
}

func (fi fileInfo) Name() string       { return fi.name }
func (fi fileInfo) Size() int64        { return fi.st.Size }
func (fi fileInfo) ModTime() time.Time { return time.Unix(fi.st.Mtim.Unix()) }
func (fi fileInfo) IsDir() bool        { return fi.Mode().IsDir() }
func (fi fileInfo) Sys() any           { return &fi.st }
func (fi fileInfo) Mode() fs.FileMode {
	m := fs.FileMode(fi.st.Mode & 0o777)
	switch fi.st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	}
	return m
}

// split is rel's parent and last element; the parent of a single name is ".".
func split(rel string) (dir, name string) {
	dir, name = path.Split(rel)
	if dir == "" {
		return ".", name
	}
	return strings.TrimSuffix(dir, "/"), name
}
