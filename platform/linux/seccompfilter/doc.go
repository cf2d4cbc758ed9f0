// Package seccompfilter is the sandbox's seccomp filter, as libcontainer's configs.Seccomp:
// what it denies (Denials), which calls it reports to agentrun (the unix socket gate, and the
// file and exec calls of Report), and Build, which makes the whole filter from a Spec. The
// stage builds the filter it loads from the Spec agentrun sends; agentrun's judge reads the
// reported calls by the table the filter is built from (Calls).
package seccompfilter
