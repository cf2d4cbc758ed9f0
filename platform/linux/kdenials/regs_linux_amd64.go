package kdenials

const archSupported = true

// exitArgOffsets are the offsets in struct pt_regs of a system call's six arguments (di, si,
// dx, r10, r8, r9), as syscall_get_arguments reads them on x86_64; a failed call leaves them
// as they were at entry.
var exitArgOffsets = [6]int16{112, 104, 96, 56, 72, 64}

// nrOffset is where struct pt_regs keeps the system call's number (orig_ax).
const nrOffset = 120
