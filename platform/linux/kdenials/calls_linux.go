package kdenials

import (
	"slices"

	"golang.org/x/sys/unix"
)

// Call is a system call to record when it fails, and which of its arguments (indexes 0 to 5,
// at most two) are path strings to copy from the caller's memory.
type Call struct {
	Nr    int
	Paths []int
}

// DefaultErrnos are the errnos of a refused file access: a permission check (a mode-000 deny
// mount, Landlock, AppArmor), a read-only bind, or seccomp's answer.
func DefaultErrnos() []unix.Errno {
	return []unix.Errno{unix.EACCES, unix.EPERM, unix.EROFS}
}

// DefaultCalls are the file system calls that take a path, on this architecture: opens and
// creates, names made and removed, metadata read and changed, and exec.
func DefaultCalls() []Call {
	calls := []Call{
		{Nr: unix.SYS_OPENAT, Paths: []int{1}},
		{Nr: unix.SYS_OPENAT2, Paths: []int{1}},
		{Nr: unix.SYS_MKDIRAT, Paths: []int{1}},
		{Nr: unix.SYS_MKNODAT, Paths: []int{1}},
		{Nr: unix.SYS_UNLINKAT, Paths: []int{1}},
		{Nr: unix.SYS_RENAMEAT2, Paths: []int{1, 3}},
		{Nr: unix.SYS_LINKAT, Paths: []int{1, 3}},
		{Nr: unix.SYS_SYMLINKAT, Paths: []int{0, 2}},
		{Nr: unix.SYS_FCHMODAT, Paths: []int{1}},
		{Nr: unix.SYS_FCHMODAT2, Paths: []int{1}},
		{Nr: unix.SYS_FCHOWNAT, Paths: []int{1}},
		{Nr: unix.SYS_FACCESSAT, Paths: []int{1}},
		{Nr: unix.SYS_FACCESSAT2, Paths: []int{1}},
		{Nr: unix.SYS_STATX, Paths: []int{1}},
		{Nr: unix.SYS_READLINKAT, Paths: []int{1}},
		{Nr: unix.SYS_UTIMENSAT, Paths: []int{1}},
		{Nr: unix.SYS_TRUNCATE, Paths: []int{0}},
		{Nr: unix.SYS_EXECVE, Paths: []int{0}},
		{Nr: unix.SYS_EXECVEAT, Paths: []int{1}},
		{Nr: unix.SYS_CHDIR, Paths: []int{0}},
		{Nr: unix.SYS_CHROOT, Paths: []int{0}},
		{Nr: unix.SYS_SETXATTR, Paths: []int{0}},
		{Nr: unix.SYS_LSETXATTR, Paths: []int{0}},
		{Nr: unix.SYS_GETXATTR, Paths: []int{0}},
		{Nr: unix.SYS_LGETXATTR, Paths: []int{0}},
		{Nr: unix.SYS_REMOVEXATTR, Paths: []int{0}},
		{Nr: unix.SYS_LREMOVEXATTR, Paths: []int{0}},
	}
	return append(calls, slices.Clone(legacyCalls)...)
}
