package launcher

import (
	"strings"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/metadata"
)

// defaultPath is the agent's PATH when the policy passes none.
const defaultPath = "/usr/local/bin:/usr/bin:/bin"

// AgentEnv is the agent's environment: the host variables the policy passes, then those it
// sets; never a variable that points at a metadata service, nor one that looks like a
// credential (see credentialVar) unless the policy names it exactly.
func AgentEnv(pol *profiles.Policy, host []string) []string {
	env, _ := agentEnv(pol, host)
	return env
}

// DroppedEnv names the host variables a wildcard pass entry covers that AgentEnv drops as
// credentials, for --dry-run (names only, never values).
func DroppedEnv(pol *profiles.Policy, host []string) []string {
	_, dropped := agentEnv(pol, host)
	return dropped
}

func agentEnv(pol *profiles.Policy, host []string) (env, dropped []string) {
	seen := map[string]bool{} // by envKey
	for _, kv := range host {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || seen[envKey(name)] || metadata.DeniedEnv(name) || isSet(pol, name) {
			continue
		}
		exact, wild := passes(pol.Env.Pass, name)
		if !exact && !wild {
			continue
		}
		seen[envKey(name)] = true
		if !exact && credentialVar(name, value) {
			dropped = append(dropped, name)
			continue
		}
		env = append(env, kv)
	}
	for _, s := range pol.Env.Set {
		env = append(env, s.Name+"="+s.Value)
		seen[envKey(s.Name)] = true
	}
	if !seen[envKey("PATH")] {
		env = append(env, "PATH="+defaultPath)
	}
	return env, dropped
}

// passes reports whether a pass entry names the variable exactly, and whether a wildcard
// entry covers it.
func passes(pass []string, name string) (exact, wild bool) {
	key := envKey(name)
	for _, p := range pass {
		exact = exact || envKey(p) == key
		wild = wild || strings.HasSuffix(p, "*") && strings.HasPrefix(key, envKey(strings.TrimSuffix(p, "*")))
	}
	return exact, wild
}

func isSet(pol *profiles.Policy, name string) bool {
	for _, s := range pol.Env.Set {
		if envKey(s.Name) == envKey(name) {
			return true
		}
	}
	return false
}

// setEnv replaces or adds variables, given as name, value pairs.
func setEnv(env []string, pairs ...string) []string {
	for i := 0; i+1 < len(pairs); i += 2 {
		name, value := pairs[i], pairs[i+1]
		kv := name + "=" + value
		replaced := false
		for j, e := range env {
			if strings.HasPrefix(e, name+"=") {
				env[j], replaced = kv, true
			}
		}
		if !replaced {
			env = append(env, kv)
		}
	}
	return env
}
