//go:build !linux

package safefs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// Root is a directory that paths are resolved beneath. Outside Linux it is Go's os.Root
// (which resolves every name beneath the directory it opened, never leaving it, on Windows
// and macOS alike), with every name on the way checked not to be a link: a symbolic link, or
// on Windows a junction or other reparse point, is ErrUnsafePath, as on Linux. The checks and
// the operation are two steps, safe when nothing changes the tree meanwhile — the case after
// a run, whose processes are all gone.
type Root struct {
	path string
	root *os.Root
}

// OpenRoot opens path as a root.
func OpenRoot(path string) (*Root, error) {
	r, err := os.OpenRoot(path)
	if err != nil {
		return nil, err
	}
	return &Root{path: path, root: r}, nil
}

// Path is the root's path as it was opened.
func (r *Root) Path() string { return r.path }

// Close closes the root.
func (r *Root) Close() error { return r.root.Close() }

func (r *Root) errorf(op, rel string, err error) error {
	return &fs.PathError{Op: op, Path: r.path + "/" + rel, Err: err}
}

// isLink reports whether a mode is a link the Linux primitives would refuse to follow.
func isLink(m fs.FileMode) bool { return m&(fs.ModeSymlink|fs.ModeIrregular) != 0 }

// resolve cleans rel and checks that no name on its way is a link, the last one included when
// final is set; a missing name ends the check (the operation then says it is missing).
func (r *Root) resolve(op, rel string, final bool) (string, error) {
	c, _, err := r.resolveLast(op, rel, final)
	return c, err
}

// resolveLast is resolve, also giving what it found of the last name when final is set and
// the name is there (nil otherwise).
func (r *Root) resolveLast(op, rel string, final bool) (string, fs.FileInfo, error) {
	c, err := clean(rel)
	if err != nil {
		return "", nil, r.errorf(op, rel, err)
	}
	if c == "." {
		return c, nil, nil
	}
	names := strings.Split(c, "/")
	var last fs.FileInfo
	for i := range names {
		if i == len(names)-1 && !final {
			break
		}
		fi, err := r.root.Lstat(strings.Join(names[:i+1], "/"))
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return "", nil, r.errorf(op, rel, err)
		}
		if isLink(fi.Mode()) {
			return "", nil, r.errorf(op, rel, ErrUnsafePath)
		}
		if i == len(names)-1 {
			last = fi
		}
	}
	return c, last, nil
}

// ReadFile reads at most max bytes of a regular file beneath the root.
func (r *Root) ReadFile(rel string, max int64) ([]byte, error) {
	c, fi, err := r.resolveLast("read", rel, true)
	if err != nil {
		return nil, err
	}
	// Checked before the open, which would block on a FIFO the agent left there.
	if fi == nil {
		return nil, r.errorf("read", rel, fs.ErrNotExist)
	}
	if !fi.Mode().IsRegular() {
		return nil, r.errorf("read", rel, errors.New("not a regular file"))
	}
	f, err := r.root.Open(c)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, r.errorf("read", rel, errors.New("not a regular file"))
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, r.errorf("read", rel, fmt.Errorf("larger than %d bytes", max))
	}
	return b, nil
}

// Lstat describes rel without following it.
func (r *Root) Lstat(rel string) (fs.FileInfo, error) {
	c, err := r.resolve("lstat", rel, false)
	if err != nil {
		return nil, err
	}
	return r.root.Lstat(c)
}

// ReadHostFile reads the regular file at the host path p, links followed, at most max bytes
// (more is an error). Outside Linux the type is checked before the open, so that it does not
// block on a FIFO; a file swapped in between is read as it is.
func ReadHostFile(p string, max int64) ([]byte, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errors.New("not a regular file")}
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err == nil && int64(len(b)) > max {
		err = &fs.PathError{Op: "read", Path: p, Err: fmt.Errorf("larger than %d bytes", max)}
	}
	return b, err
}

// Readlink is the target of the symbolic link rel (not followed); the directories on the way
// must not be links.
func (r *Root) Readlink(rel string) (string, error) {
	c, err := r.resolve("readlink", rel, false)
	if err != nil {
		return "", err
	}
	return r.root.Readlink(c)
}

// ReadDir lists a directory beneath the root, sorted by name.
func (r *Root) ReadDir(rel string) ([]fs.DirEntry, error) {
	c, err := r.resolve("readdir", rel, true)
	if err != nil {
		return nil, err
	}
	return fs.ReadDir(r.root.FS(), c)
}

// Rename moves oldRel to newRel, both beneath the root, and fails if newRel exists; their
// last names are not followed (a link is moved as itself). id is not used outside Linux.
func (r *Root) Rename(oldRel, newRel string, id *Identity) error {
	o, err := r.resolve("rename", oldRel, false)
	if err != nil {
		return err
	}
	n, err := r.resolve("rename", newRel, false)
	if err != nil {
		return err
	}
	if _, err := r.root.Lstat(n); err == nil {
		return r.errorf("rename", newRel, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return r.root.Rename(o, n)
}

// WriteFile writes a file beneath the root, not through a link. id is not used outside Linux.
func (r *Root) WriteFile(rel string, data []byte, perm os.FileMode, id *Identity) error {
	c, err := r.resolve("write", rel, true)
	if err != nil {
		return err
	}
	return r.root.WriteFile(c, data, perm)
}

// MkdirAll makes a directory and its missing parents beneath the root. id is not used
// outside Linux.
func (r *Root) MkdirAll(rel string, perm os.FileMode, id *Identity) error {
	c, err := r.resolve("mkdir", rel, true)
	if err != nil {
		return err
	}
	return r.root.MkdirAll(c, perm)
}

// OpenFile opens a file beneath the root, not through a link. id is not used outside Linux.
func (r *Root) OpenFile(rel string, flag int, perm os.FileMode, id *Identity) (*os.File, error) {
	c, err := r.resolve("open", rel, true)
	if err != nil {
		return nil, err
	}
	return r.root.OpenFile(c, flag, perm)
}

// UnlockDir fails with ErrUnsupported outside Linux.
func (r *Root) UnlockDir(rel string, id *Identity) (bool, error) { return false, ErrUnsupported }

// Ctime fails with ErrUnsupported outside Linux: callers fall back to what they do without it.
func (r *Root) Ctime(rel string) (int64, error) { return 0, ErrUnsupported }

// AsUser runs fn as it is: outside Linux there is no per-thread file-system identity.
func AsUser(id *Identity, fn func() error) error { return fn() }
