package acl

import "errors"

// Editor changes one object's DACL for one SID (string form "S-1-15-2-…").
type Editor interface {
	// Apply adds the grant's explicit ACE (deny ACEs first, canonical order); an identical
	// explicit ACE already there is not added twice.
	Apply(sid string, g Grant) error
	// Remove removes every explicit ACE (allow and deny) of sid on path; a missing path or
	// no ACE is not an error.
	Remove(sid string, path string) error
}

// ErrWindowsOnly is what the Editor of a non-Windows build answers.
var ErrWindowsOnly = errors.New("file ACLs for an AppContainer exist only on Windows")
