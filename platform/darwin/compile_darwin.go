//go:build darwin

package darwin

import (
	"github.com/agentrun/agentrun/platform/darwin/sbpl"
	"github.com/agentrun/agentrun/profiles"
)

// compileSBPL is the launcher's one call into the SBPL compiler.
func compileSBPL(pol *profiles.Policy, o compileOptions) (*compiledProfile, error) {
	p, err := sbpl.Compile(pol, sbpl.Options{Tag: o.Tag, ProxyPorts: o.ProxyPorts, Audit: o.Audit})
	if err != nil {
		return nil, err
	}
	out := &compiledProfile{Text: p.Text}
	for _, prm := range p.Params {
		out.Params = append(out.Params, Param(prm))
	}
	return out, nil
}

// compileOptions are what a run passes the SBPL compiler besides the policy.
type compileOptions struct {
	Tag        string // the run's message tag, which the unified log's reports carry
	ProxyPorts []int  // the loopback ports of agentrun's proxy: the only network allowed
	Audit      bool   // allow with report what enforce mode denies
}

// compiledProfile is an SBPL profile and the -D parameters it reads.
type compiledProfile struct {
	Text   string
	Params []Param
}
