package stage

import "github.com/agentrun/agentrun/platform/linux/seccompfilter"

// loadFilter loads the filter agentrun compiled on this thread; it returns the filter's
// notification descriptor (-1 for none). The stage needs no libseccomp for it.
func loadFilter(p *seccompfilter.Program) (int, error) { return p.Load() }
