//go:build unix

package main

import "golang.org/x/sys/unix"

// monotonic is CLOCK_MONOTONIC, the clock agentrun's steps are written in.
func monotonic() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}
