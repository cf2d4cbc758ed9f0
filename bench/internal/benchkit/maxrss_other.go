//go:build !linux

package benchkit

import "os"

// maxRSS is not measured off Linux (darwin reports bytes, Windows no rusage at all).
func maxRSS(*os.ProcessState) (int64, bool) { return 0, false }
