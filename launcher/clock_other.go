//go:build !linux

package launcher

import "time"

// coarseNow is a second before now: file change times may use a coarser clock.
func coarseNow() int64 { return time.Now().Add(-time.Second).UnixNano() }
