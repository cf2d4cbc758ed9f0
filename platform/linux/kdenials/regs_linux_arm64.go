package kdenials

import "golang.org/x/sys/unix"

const archSupported = true

// nrOffset is where struct pt_regs keeps the system call's number (syscallno, after
// user_pt_regs and orig_x0).
const nrOffset = 280

// legacyCalls are the system calls of this architecture that have an *at twin elsewhere:
// arm64 has only the *at calls: renameat, and fstatat under its generic name.
var legacyCalls = []Call{
	{Nr: unix.SYS_FSTATAT, Paths: []int{1}},
	{Nr: unix.SYS_RENAMEAT, Paths: []int{1, 3}},
}

// exitArgOffsets are where the arguments are at the system call's exit: the return value has
// overwritten x0, whose value at entry is orig_x0 (offset 272).
var exitArgOffsets = [6]int16{272, 8, 16, 24, 32, 40}
