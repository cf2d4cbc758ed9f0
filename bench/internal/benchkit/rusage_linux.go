//go:build linux

package benchkit

import (
	"os"
	"syscall"
	"time"
)

// usageOf is what wait4 reported for a finished process: its own and that of every descendant
// it (or they) reaped, so for a sandbox launcher the sandbox's processes are in it.
func usageOf(ps *os.ProcessState) (usage, bool) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return usage{}, false
	}
	return usage{
		maxRSS:   ru.Maxrss,
		cpu:      time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		switches: ru.Nvcsw + ru.Nivcsw,
		faults:   ru.Minflt + ru.Majflt,
	}, true
}
