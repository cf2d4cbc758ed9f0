//go:build !linux

package safefs

import (
	"io/fs"
	"os"
)

// Root is a directory that paths are resolved beneath. Outside Linux every operation fails
// with ErrUnsupported.
type Root struct{ path string }

// OpenRoot fails with ErrUnsupported outside Linux.
func OpenRoot(path string) (*Root, error) { return nil, ErrUnsupported }

// Path is the root's path as it was opened.
func (r *Root) Path() string { return r.path }

// Close does nothing outside Linux.
func (r *Root) Close() error { return nil }

// ReadFile fails with ErrUnsupported outside Linux.
func (r *Root) ReadFile(rel string, max int64) ([]byte, error) { return nil, ErrUnsupported }

// Lstat fails with ErrUnsupported outside Linux.
func (r *Root) Lstat(rel string) (fs.FileInfo, error) { return nil, ErrUnsupported }

// ReadDir fails with ErrUnsupported outside Linux.
func (r *Root) ReadDir(rel string) ([]fs.DirEntry, error) { return nil, ErrUnsupported }

// Rename fails with ErrUnsupported outside Linux.
func (r *Root) Rename(oldRel, newRel string, id *Identity) error { return ErrUnsupported }

// WriteFile fails with ErrUnsupported outside Linux.
func (r *Root) WriteFile(rel string, data []byte, perm os.FileMode, id *Identity) error {
	return ErrUnsupported
}

// MkdirAll fails with ErrUnsupported outside Linux.
func (r *Root) MkdirAll(rel string, perm os.FileMode, id *Identity) error { return ErrUnsupported }

// OpenFile fails with ErrUnsupported outside Linux.
func (r *Root) OpenFile(rel string, flag int, perm os.FileMode, id *Identity) (*os.File, error) {
	return nil, ErrUnsupported
}

// Ctime fails with ErrUnsupported outside Linux.
func (r *Root) Ctime(rel string) (int64, error) { return 0, ErrUnsupported }

// AsUser runs fn as it is: outside Linux there is no per-thread file-system identity.
func AsUser(id *Identity, fn func() error) error { return fn() }
