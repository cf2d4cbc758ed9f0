package seccompfilter

import (
	"fmt"
	"slices"
)

// Built is true: amd64's filters are compiled when agentrun is built, every one of them
// (programs_linux_amd64.go), so that agentrun needs neither libseccomp nor cgo there.
const Built = true

// Compile is the filter of s, as libseccomp compiled it when agentrun was built. TestPrograms
// fails when the table is not what libseccomp makes of Build(s) today, and
// TestCompileAsLibcontainer checks each program against the one libcontainer loads.
func Compile(s Spec) (*Program, error) {
	p, ok := programs[s]
	if !ok {
		return nil, fmt.Errorf("no seccomp filter was compiled for %+v when agentrun was built (a bug: programs_linux_amd64.go holds every Spec)", s)
	}
	return &Program{Raw: slices.Clone(p.Raw), Listener: p.Listener}, nil
}
