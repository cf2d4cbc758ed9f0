//go:build linux

package launcher

import (
	"time"

	"golang.org/x/sys/unix"
)

// coarseNow is the clock file change times are taken from (the coarse real-time clock, which
// may lag the precise one by a tick), so a change made after it has a ctime not before it.
func coarseNow() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_REALTIME_COARSE, &ts); err != nil {
		return time.Now().Add(-time.Second).UnixNano()
	}
	return ts.Nano()
}
