package stage

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// closeExecFrom marks every descriptor from lowest up close-on-exec, so that the agent gets
// its standard streams and nothing else: not the stage's lifeline, nor a descriptor
// agentrun inherited from its own parent (runc's CloseExecFrom does the same for its init).
func closeExecFrom(lowest int) {
	if unix.CloseRange(uint(lowest), ^uint(0), unix.CLOSE_RANGE_CLOEXEC) == nil {
		return
	}
	entries, err := os.ReadDir("/proc/self/fd") // before Linux 5.11
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd >= lowest {
			unix.CloseOnExec(fd)
		}
	}
}
