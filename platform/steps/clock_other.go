//go:build !unix

package steps

import "time"

// Clock is the clock steps are written in: the wall clock, where there is no
// CLOCK_MONOTONIC to share.
func Clock() int64 { return time.Now().UnixNano() }
