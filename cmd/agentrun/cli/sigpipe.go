package cli

import (
	"os"
	"os/signal"
	"syscall"
)

// surviveClosedPipes keeps agentrun alive when its stdout or stderr is a pipe whose reader has
// gone (`agentrun -- make 2>&1 | head`): Go ends a program that writes to such a pipe on
// descriptor 1 or 2 with SIGPIPE, unless it asks for the signal, and agentrun would then
// leave its run's lock file and cgroups to the next start and its record unfinished. Asked
// for, a write fails with EPIPE instead. Caught, not ignored: an ignored signal stays ignored
// through exec, in the agent. (A no-op where there is no SIGPIPE.)
func surviveClosedPipes() {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
}
