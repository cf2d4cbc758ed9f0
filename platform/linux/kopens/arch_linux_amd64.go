package kopens

import "golang.org/x/sys/unix"

// Supported says that the recorder knows this architecture's registers and system calls.
const Supported = true

// The open calls, and where pt_regs keeps a call's number and the flags of open and openat.
const (
	nrOpen    = unix.SYS_OPEN
	nrOpenat  = unix.SYS_OPENAT
	nrOpenat2 = unix.SYS_OPENAT2

	// The calls that move or remove a directory.
	nrRename    = unix.SYS_RENAME
	nrRenameat  = unix.SYS_RENAMEAT
	nrRenameat2 = unix.SYS_RENAMEAT2
	nrRmdir     = unix.SYS_RMDIR
	nrUnlinkat  = unix.SYS_UNLINKAT

	regsNr          = "orig_ax"
	regsOpenFlags   = "si" // open's second argument
	regsOpenatFlags = "dx" // openat's third
)
