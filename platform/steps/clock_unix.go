//go:build unix

package steps

import "golang.org/x/sys/unix"

// Clock is the clock steps are written in: CLOCK_MONOTONIC, which every process of a run
// reads alike.
func Clock() int64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return 0
	}
	return ts.Nano()
}
