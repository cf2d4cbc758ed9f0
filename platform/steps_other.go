//go:build !unix

package platform

import "time"

// monotonicNanos is the wall clock where there is no CLOCK_MONOTONIC to share.
func monotonicNanos() int64 { return time.Now().UnixNano() }
