package launcher

import (
	"fmt"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/builtin"
	"github.com/agentrun/agentrun/profiles/learn"
)

// BuiltinGuards are the deny and protect rules of every built-in profile resolved for env:
// learn refuses what any of them denies or protects, whatever the learned profile says, and
// the end-of-run summary never proposes a rule for what any of them denies.
func BuiltinGuards(env profiles.Env) (*profiles.FilesystemPolicy, error) {
	cat, err := profiles.Load(builtin.FS, "")
	if err != nil {
		return nil, fmt.Errorf("loading the built-in profiles: %w", err)
	}
	var pols []*profiles.Policy
	for _, e := range cat.List() {
		p, err := cat.Resolve(e, env)
		if err != nil {
			return nil, fmt.Errorf("resolving the built-in profile %s: %w", e.Name(), err)
		}
		pols = append(pols, p)
	}
	return learn.GuardsOf(pols...), nil
}
