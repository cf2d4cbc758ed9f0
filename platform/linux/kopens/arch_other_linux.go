//go:build linux && !amd64

package kopens

// Supported says that the recorder knows this architecture's registers and system calls: it
// has been written and tested for amd64 only (Load returns ErrUnsupported; audit mode reads
// through the seccomp notifier there).
const Supported = false

// Numbers no system call has, and field names Load never looks up.
const (
	nrOpen    = -1
	nrOpenat  = -1
	nrOpenat2 = -1

	nrRename    = -1
	nrRenameat  = -1
	nrRenameat2 = -1
	nrRmdir     = -1
	nrUnlinkat  = -1

	regsNr          = ""
	regsOpenFlags   = ""
	regsOpenatFlags = ""
)
