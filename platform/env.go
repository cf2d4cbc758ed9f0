package platform

import "strings"

// WithEnv returns env with each NAME=VALUE of set replacing NAME's earlier value.
func WithEnv(env, set []string) []string {
	names := map[string]bool{}
	for _, kv := range set {
		names[envName(kv)] = true
	}
	out := make([]string, 0, len(env)+len(set))
	for _, kv := range env {
		if !names[envName(kv)] {
			out = append(out, kv)
		}
	}
	return append(out, set...)
}

// envName is the name of a NAME=VALUE variable.
func envName(kv string) string {
	n, _, _ := strings.Cut(kv, "=")
	return n
}
