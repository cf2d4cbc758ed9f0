//go:build !unix

package platform

import "time"

// StepClock is the clock steps are written in: the wall clock, where there is no
// CLOCK_MONOTONIC to share.
func StepClock() int64 { return time.Now().UnixNano() }
