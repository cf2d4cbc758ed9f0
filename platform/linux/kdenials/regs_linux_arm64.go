package kdenials

import "golang.org/x/sys/unix"

const archSupported = true

// argOffsets are the offsets in struct pt_regs of a system call's six arguments (x0 to x5; at
// system call entry x0 still holds the first argument).
var argOffsets = [6]int16{0, 8, 16, 24, 32, 40}

// nrOffset is where struct pt_regs keeps the system call's number (syscallno, after
// user_pt_regs and orig_x0).
const nrOffset = 280

// legacyCalls are the system calls of this architecture that have an *at twin elsewhere:
// arm64 has only the *at calls: renameat, and fstatat under its generic name.
var legacyCalls = []Call{
	{Nr: unix.SYS_FSTATAT, Paths: []int{1}},
	{Nr: unix.SYS_RENAMEAT, Paths: []int{1, 3}},
}
