//go:build !linux

package benchkit

import "os"

// usageOf is not measured off Linux (darwin reports ru_maxrss in bytes, Windows has no rusage).
func usageOf(*os.ProcessState) (usage, bool) { return usage{}, false }
