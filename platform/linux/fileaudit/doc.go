// Package fileaudit observes the sandbox's system calls through seccomp user notifications and
// judges them: the unix socket gate decides connects and sends to named sockets, and the file
// judge turns file and exec accesses, resolved in the agent's view, into events. The path walk
// is pure and tested (and fuzzed) on every OS.
package fileaudit

// StageDir is where the sandbox sees agentrun's stage (its binary, as StageDir+"/agentrun"):
// what runs from there, and what lies there, is agentrun's own, not the agent's. It must be
// the directory platform/linux mounts the stage at (a test there checks).
const StageDir = "/.agentrun"
