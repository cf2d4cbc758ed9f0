package seccompfilter

import "fmt"

// Built is true: amd64's filters are compiled when agentrun is built, every one of them
// (programs_linux_amd64.go), so that agentrun needs no libseccomp there.
const Built = true

// program is one compiled filter: Program's fields, held as a constant string, and the
// SHA-256 of the rules it was compiled from (Build's, as JSON), which
// TestProgramsMatchRules — run by scripts/build.sh before every build — compares with
// today's rules: a table left behind by a change of the rules builds no agentrun.
type program struct {
	listener bool
	rules    string
	raw      string
}

// Compile is the filter of s, as libseccomp compiled it when agentrun was built. TestPrograms
// fails when the table is not what libseccomp makes of Build(s) today, and
// TestCompileAsLibcontainer checks each program against the one libcontainer loads.
func Compile(s Spec) (*Program, error) {
	if s.Report < ReportNothing || s.Report > ReportAll {
		return nil, fmt.Errorf("no seccomp filter was compiled for %+v when agentrun was built: its Report is not one of Specs'", s)
	}
	noInet := 0
	if s.NoInet {
		noInet = 1
	}
	p := programs[noInet][s.Report]
	return &Program{Raw: []byte(p.raw), Listener: p.listener}, nil
}
