//go:build linux

package benchkit

import (
	"os"
	"syscall"
)

// maxRSS is the ru_maxrss wait4 returned for a finished process, in KiB.
func maxRSS(ps *os.ProcessState) (int64, bool) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, false
	}
	return ru.Maxrss, true
}
