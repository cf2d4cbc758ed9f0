package kdenials

import "golang.org/x/sys/unix"

const archSupported = true

// exitArgOffsets are the offsets in struct pt_regs of a system call's six arguments (di, si,
// dx, r10, r8, r9), as syscall_get_arguments reads them on x86_64; a failed call leaves them
// as they were at entry.
var exitArgOffsets = [6]int16{112, 104, 96, 56, 72, 64}

// nrOffset is where struct pt_regs keeps the system call's number (orig_ax).
const nrOffset = 120

// legacyCalls are the system calls of this architecture that have an *at twin elsewhere.
var legacyCalls = []Call{
	{Nr: unix.SYS_OPEN, Paths: []int{0}},
	{Nr: unix.SYS_CREAT, Paths: []int{0}},
	{Nr: unix.SYS_MKDIR, Paths: []int{0}},
	{Nr: unix.SYS_MKNOD, Paths: []int{0}},
	{Nr: unix.SYS_RMDIR, Paths: []int{0}},
	{Nr: unix.SYS_UNLINK, Paths: []int{0}},
	{Nr: unix.SYS_RENAME, Paths: []int{0, 1}},
	{Nr: unix.SYS_LINK, Paths: []int{0, 1}},
	{Nr: unix.SYS_SYMLINK, Paths: []int{0, 1}},
	{Nr: unix.SYS_CHMOD, Paths: []int{0}},
	{Nr: unix.SYS_CHOWN, Paths: []int{0}},
	{Nr: unix.SYS_LCHOWN, Paths: []int{0}},
	{Nr: unix.SYS_ACCESS, Paths: []int{0}},
	{Nr: unix.SYS_STAT, Paths: []int{0}},
	{Nr: unix.SYS_LSTAT, Paths: []int{0}},
	{Nr: unix.SYS_READLINK, Paths: []int{0}},
	{Nr: unix.SYS_UTIMES, Paths: []int{0}},
	{Nr: unix.SYS_UTIME, Paths: []int{0}},
	{Nr: unix.SYS_NEWFSTATAT, Paths: []int{1}},
	{Nr: unix.SYS_RENAMEAT, Paths: []int{1, 3}},
}
