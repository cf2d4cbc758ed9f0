package acl

import "errors"

// Editor changes one object's DACL for one SID (string form "S-1-15-2-…").
type Editor interface {
	// Apply adds the grant's explicit ACE (deny ACEs first, canonical order); an identical
	// explicit ACE already there is not added twice.
	Apply(sid string, g Grant) error
	// Set makes the explicit ACEs (allow and deny) of sid on path exactly those of keep
	// (grants on path: their access and inheritance), in one write of its DACL, so that an
	// ACE of keep that was there is never missing in between; Set with no grant removes
	// them all. A missing path, or nothing to change, is not an error.
	Set(sid string, path string, keep []Grant) error
}

// ErrWindowsOnly is what the Editor of a non-Windows build answers.
var ErrWindowsOnly = errors.New("file ACLs for an AppContainer exist only on Windows")
