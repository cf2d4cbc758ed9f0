//go:build darwin

package darwin

import "github.com/agentrun/agentrun/profiles"

// compileSBPL is the launcher's one call into the SBPL compiler.
//
// MERGE(platform/darwin/sbpl): delete sbplstub_darwin.go, import
// "github.com/agentrun/agentrun/platform/darwin/sbpl" here and write sbpl.Compile for
// sbplCompile and sbpl.Options for sbplOptions below; nothing else changes.
func compileSBPL(pol *profiles.Policy, o compileOptions) (*compiledProfile, error) {
	p, err := sbplCompile(pol, sbplOptions{Tag: o.Tag, ProxyPorts: o.ProxyPorts, Audit: o.Audit})
	if err != nil {
		return nil, err
	}
	out := &compiledProfile{Text: p.Text}
	for _, prm := range p.Params {
		out.Params = append(out.Params, Param{Name: prm.Name, Value: prm.Value})
	}
	return out, nil
}
