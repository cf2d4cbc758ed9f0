package stage

import (
	"github.com/opencontainers/runc/libcontainer/seccomp"

	"github.com/agentrun/agentrun/platform/linux/seccompfilter"
)

// loadFilter builds the filter of spec and loads it on this thread; it returns the filter's
// notification descriptor (-1 for none).
func loadFilter(spec *seccompfilter.Spec) (int, error) {
	return seccomp.InitSeccomp(seccompfilter.Build(*spec))
}
