package acl

import (
	"fmt"
	"path/filepath"
)

// Access is what one ACE gives or takes.
type Access uint8

// The accesses a grant can carry. No allow ever includes FILE_DELETE_CHILD (see the package
// documentation).
const (
	Read         Access = iota + 1 // allow: list, read data/attributes/EA, read control, synchronize
	ReadExecute                    // Read + FILE_EXECUTE (traverse)
	Write                          // Read + write data/append/EA/attributes + DELETE; no execute
	WriteExecute                   // Write + FILE_EXECUTE
	DenyAll                        // deny: everything (a deny rule inside a granted tree)
	DenyWrite                      // deny: write data/append/EA/attributes, DELETE, FILE_DELETE_CHILD, WRITE_DAC, WRITE_OWNER
	DenyDelete                     // deny: DELETE and FILE_DELETE_CHILD (each ancestor of a protected path inside a write root)
	Traverse                       // allow: FILE_TRAVERSE, read attributes, synchronize (a directory above a grant, passed through)
)

// Grant is one ACE for one path.
type Grant struct {
	Path    string
	Access  Access
	Inherit bool // container and object inherit: the ACE reaches what the directory holds
}

// File access rights (winnt.h; learn.microsoft.com "File Access Rights Constants"), here so
// that the masks are pure and tested on every OS.
const (
	fileReadData        = 0x0001 // FILE_LIST_DIRECTORY on a directory
	fileWriteData       = 0x0002 // FILE_ADD_FILE
	fileAppendData      = 0x0004 // FILE_ADD_SUBDIRECTORY
	fileReadEA          = 0x0008
	fileWriteEA         = 0x0010
	fileExecute         = 0x0020 // FILE_TRAVERSE
	fileDeleteChild     = 0x0040
	fileReadAttributes  = 0x0080
	fileWriteAttributes = 0x0100
	accessDelete        = 0x00010000
	readControl         = 0x00020000
	writeDAC            = 0x00040000
	writeOwner          = 0x00080000
	synchronize         = 0x00100000
	fileAllAccess       = 0x001F01FF // STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x1FF

	maskRead  = fileReadData | fileReadAttributes | fileReadEA | readControl | synchronize
	maskWrite = maskRead | fileWriteData | fileAppendData | fileWriteEA | fileWriteAttributes | accessDelete
)

var accessNames = [...]string{
	Read:         "read",
	ReadExecute:  "read-execute",
	Write:        "write",
	WriteExecute: "write-execute",
	DenyAll:      "deny-all",
	DenyWrite:    "deny-write",
	DenyDelete:   "deny-delete",
	Traverse:     "traverse",
}

// String is the access's name in the journal.
func (a Access) String() string {
	if a.valid() {
		return accessNames[a]
	}
	return fmt.Sprintf("Access(%d)", uint8(a))
}

func (a Access) valid() bool { return a >= Read && a <= Traverse }

// MarshalText writes the access's name, so that the journal is readable.
func (a Access) MarshalText() ([]byte, error) {
	if !a.valid() {
		return nil, fmt.Errorf("unknown access %d", uint8(a))
	}
	return []byte(accessNames[a]), nil
}

// UnmarshalText reads an access's name.
func (a *Access) UnmarshalText(b []byte) error {
	for i, n := range accessNames {
		if n != "" && n == string(b) {
			*a = Access(i)
			return nil
		}
	}
	return fmt.Errorf("unknown access %q", b)
}

// Deny reports whether the ACE is an access-denied ACE.
func (a Access) Deny() bool { return a >= DenyAll && a <= DenyDelete }

// Mask is the ACE's access mask.
func (a Access) Mask() uint32 {
	switch a {
	case Read:
		return maskRead
	case ReadExecute:
		return maskRead | fileExecute
	case Write:
		return maskWrite
	case WriteExecute:
		return maskWrite | fileExecute
	case DenyAll:
		return fileAllAccess
	case DenyWrite:
		return fileWriteData | fileAppendData | fileWriteEA | fileWriteAttributes | accessDelete | fileDeleteChild | writeDAC | writeOwner
	case DenyDelete:
		return accessDelete | fileDeleteChild
	case Traverse:
		return fileExecute | fileReadAttributes | synchronize
	}
	return 0
}

// check says what is wrong with a grant before it is journaled.
func (g Grant) check() error {
	if !g.Access.valid() {
		return fmt.Errorf("granting %q: unknown access %d", g.Path, uint8(g.Access))
	}
	if g.Path == "" || !filepath.IsAbs(g.Path) {
		return fmt.Errorf("granting %s on %q: the path must be absolute", g.Access, g.Path)
	}
	return nil
}
