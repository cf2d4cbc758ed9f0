// Package safefs touches files on the agent's behalf without following a symbolic link or
// leaving the directory tree it was given: every path is resolved beneath a directory
// descriptor opened before the agent ran (openat2 with RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS
// and RESOLVE_NO_MAGICLINKS), and changes can be made with the invoking user's file-system
// identity instead of root's.
//
// A path that would need a link followed, or ".." to leave the tree, is an error wrapping
// [ErrUnsafePath]; callers leave such paths alone and say so.
package safefs

import (
	"errors"
	"path"
	"strings"
)

// Sentinels.
var (
	// ErrUnsafePath is returned for a path that names a symbolic link, passes through one, or
	// leaves the root.
	ErrUnsafePath = errors.New("the path passes through a symbolic link or leaves its directory tree")
	// ErrUnsupported is returned on systems without the Linux primitives.
	ErrUnsupported = errors.New("safe file operations are not supported on this system")
)

// Identity is the user whose file-system rights an operation uses. A nil *Identity means
// the process's own.
type Identity struct {
	UID, GID int
	Groups   []int
}

// clean checks that rel is a relative, local path (no "..", not absolute) and returns it in
// canonical form; "" and "." name the root itself.
func clean(rel string) (string, error) {
	if rel == "" || rel == "." {
		return ".", nil
	}
	if strings.HasPrefix(rel, "/") {
		return "", ErrUnsafePath
	}
	c := path.Clean(rel)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", ErrUnsafePath
	}
	return c, nil
}
