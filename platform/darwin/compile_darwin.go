//go:build darwin

package darwin

import "github.com/agentrun/agentrun/profiles"

// compileSBPL is the launcher's one call into the SBPL compiler.
//
// MERGE(platform/darwin/sbpl): delete sbplstub_darwin.go, import
// "github.com/agentrun/agentrun/platform/darwin/sbpl" here and write sbpl.Compile for
// sbplCompile and sbpl.Options for sbplOptions below; nothing else changes.
func compileSBPL(pol *profiles.Policy, o compileOptions) (*compiledProfile, error) {
	//lint:ignore S1016 the real sbpl.Options and sbpl.Param are another package's types
	p, err := sbplCompile(pol, sbplOptions{Tag: o.Tag, ProxyPorts: o.ProxyPorts, Audit: o.Audit})
	if err != nil {
		return nil, err
	}
	out := &compiledProfile{Text: p.Text}
	for _, prm := range p.Params {
		//lint:ignore S1016 see above
		out.Params = append(out.Params, Param{Name: prm.Name, Value: prm.Value})
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
