package darwin

import (
	"context"
	"errors"
	"strconv"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/profiles"
)

// egress is agentrun's local proxy as one run uses it: the ports the profile lets the agent
// reach, the variables that point the agent's tools at them, and how to stop it.
type egress struct {
	Ports []int
	Env   []string
	Stop  func()
}

// errNoProxy: this build has no egress proxy yet, so a policy with network cannot run.
var errNoProxy = errors.New("the profile allows network, and this build of agentrun has no egress proxy for macOS (netfilter/proxy): the run would have no network or an unfiltered one; fix: use a build with the proxy, or a profile without network.allow")

// startEgress starts agentrun's HTTP CONNECT + SOCKS5 proxy for pol on the loopback, recording
// every flow to sink, or nothing when pol has no network.
//
// MERGE(netfilter/proxy): this is the hook for the proxy. Replace the body's last line with
// the proxy's start (listening on 127.0.0.1, ports chosen by the kernel, the policy's
// names and ports, audit mode recording would-deny flows), returning its ports in Ports (they
// go to the SBPL compiler as ProxyPorts, the only network the profile allows), proxyEnv(http,
// socks) in Env, and its shutdown in Stop.
var startEgress = func(ctx context.Context, pol *profiles.Policy, sink events.Sink) (*egress, error) {
	if pol.Network.None() {
		return &egress{Stop: func() {}}, nil
	}
	return nil, errNoProxy
}

// proxyEnv are the variables that send the agent's HTTP(S) through the proxy at httpPort and
// everything else through SOCKS5 at socksPort (socks5h: names are resolved by the proxy, so
// the policy sees them), in both spellings tools read. NO_PROXY is emptied so that no
// inherited exception goes around the proxy (the profile would refuse it anyway).
func proxyEnv(httpPort, socksPort int) []string {
	httpURL := "http://127.0.0.1:" + strconv.Itoa(httpPort)
	socksURL := "socks5h://127.0.0.1:" + strconv.Itoa(socksPort)
	var env []string
	for _, kv := range [][2]string{{"HTTP_PROXY", httpURL}, {"HTTPS_PROXY", httpURL}, {"ALL_PROXY", socksURL}, {"NO_PROXY", ""}} {
		env = append(env, kv[0]+"="+kv[1], lower(kv[0])+"="+kv[1])
	}
	return env
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// withEnv returns env with each NAME=VALUE of set replacing NAME's earlier value.
func withEnv(env, set []string) []string {
	names := map[string]bool{}
	for _, kv := range set {
		names[name(kv)] = true
	}
	out := make([]string, 0, len(env)+len(set))
	for _, kv := range env {
		if !names[name(kv)] {
			out = append(out, kv)
		}
	}
	return append(out, set...)
}

func name(kv string) string {
	for i := range len(kv) {
		if kv[i] == '=' {
			return kv[:i]
		}
	}
	return kv
}
