// Package fileaudit observes the sandbox's system calls through seccomp user notifications and
// judges them: the unix socket gate decides connects and sends to named sockets, and the file
// judge turns file and exec accesses, resolved in the agent's view, into events. The path walk
// is pure and tested (and fuzzed) on every OS.
package fileaudit

// StageDir is the sandbox's directory of agentrun's own files (its resolv.conf, passwd and
// group, the empty file denied paths are bound to): what lies there is agentrun's, not the
// agent's. It must be the directory platform/linux makes (a test there checks).
const StageDir = "/.agentrun"
