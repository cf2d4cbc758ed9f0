package kdenials

import (
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// PIDNamespace names a PID namespace as the kernel's ns_match does: the device of the nsfs
// (in the kernel's encoding, MKDEV) and the namespace's inode number.
type PIDNamespace struct {
	Dev, Ino uint64
}

// NamespaceOf returns the PID namespace process pid lives in (for a sandbox: that of its PID 1).
func NamespaceOf(pid int) (PIDNamespace, error) {
	var st unix.Stat_t
	path := "/proc/" + strconv.Itoa(pid) + "/ns/pid"
	if err := unix.Stat(path, &st); err != nil {
		return PIDNamespace{}, fmt.Errorf("reading the PID namespace of process %d: %w", pid, err)
	}
	// stat's st_dev is the user-space encoding; the kernel compares its own (major<<20|minor).
	dev := uint64(unix.Major(st.Dev))<<20 | uint64(unix.Minor(st.Dev))
	return PIDNamespace{Dev: dev, Ino: st.Ino}, nil
}
