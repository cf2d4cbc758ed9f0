package launcher

import (
	"strings"

	"github.com/agentrun/agentrun/netfilter/metadata"
	"github.com/agentrun/agentrun/profiles"
)

// defaultPath is the agent's PATH when the policy passes none.
const defaultPath = "/usr/local/bin:/usr/bin:/bin"

// AgentEnv is the agent's environment: the host variables the policy passes, then those it
// sets; never a variable that points at a metadata service.
func AgentEnv(pol *profiles.Policy, host []string) []string {
	var env []string
	seen := map[string]bool{}
	for _, kv := range host {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || seen[name] || metadata.DeniedEnv(name) || !passes(pol.Env.Pass, name) || isSet(pol, name) {
			continue
		}
		seen[name] = true
		env = append(env, kv)
	}
	for _, s := range pol.Env.Set {
		env = append(env, s.Name+"="+s.Value)
		seen[s.Name] = true
	}
	if !seen["PATH"] {
		env = append(env, "PATH="+defaultPath)
	}
	return env
}

func passes(pass []string, name string) bool {
	for _, p := range pass {
		if p == name || strings.HasSuffix(p, "*") && strings.HasPrefix(name, strings.TrimSuffix(p, "*")) {
			return true
		}
	}
	return false
}

func isSet(pol *profiles.Policy, name string) bool {
	for _, s := range pol.Env.Set {
		if s.Name == name {
			return true
		}
	}
	return false
}
