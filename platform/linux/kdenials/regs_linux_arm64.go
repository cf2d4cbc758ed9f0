package kdenials

const archSupported = true

// nrOffset is where struct pt_regs keeps the system call's number (syscallno, after
// user_pt_regs and orig_x0).
const nrOffset = 280

// exitArgOffsets are where the arguments are at the system call's exit: the return value has
// overwritten x0, whose value at entry is orig_x0 (offset 272).
var exitArgOffsets = [6]int16{272, 8, 16, 24, 32, 40}
