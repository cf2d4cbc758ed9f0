package kdenials

// Call is a system call to record when it fails, and which of its arguments (indexes 0 to 5,
// at most two) are path strings to copy from the caller's memory. The caller says which: the
// file judge's table of calls (platform/linux/fileaudit.RefusalCalls) is the one agentrun uses.
type Call struct {
	Nr    int
	Paths []int
	// Flags is one plus the index of the argument that a pass-over compares besides the path
	// (open's flags: the same path opened otherwise may be another matter), 0 for none.
	Flags int
}
