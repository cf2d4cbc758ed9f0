package darwin

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/netfilter"
	"github.com/agentrun/agentrun/netfilter/proxy"
	"github.com/agentrun/agentrun/profiles"
)

// egress is agentrun's local proxy as one run uses it: the ports the profile lets the agent
// reach, the variables that point the agent's tools at them, and how to stop it.
type egress struct {
	Ports []int
	Env   []string
	Stop  func()
}

// startEgress starts agentrun's HTTP CONNECT + SOCKS5 proxy (netfilter/proxy) for pol on the
// loopback, recording every flow to sink, or nothing when pol has no network. Its port goes to
// the SBPL compiler as the only network the profile allows; Env points the agent's tools at it.
var startEgress = func(ctx context.Context, pol *profiles.Policy, sink events.Sink) (*egress, error) {
	if pol.Network.None() {
		return &egress{Stop: func() {}}, nil
	}
	policy := netfilter.NewPolicy(pol.Network, netfilter.HostAddrs())
	if pol.Mode == profiles.ModeAudit {
		policy = policy.Audit()
	}
	p, err := proxy.Start(ctx, policy, sink, proxy.Options{})
	if err != nil {
		return nil, fmt.Errorf("starting agentrun's egress proxy (the network layer on macOS): %w", err)
	}
	addr, ok := p.Addr().(*net.TCPAddr)
	if !ok {
		p.Close()
		return nil, fmt.Errorf("agentrun's egress proxy listens on %s, not a TCP port", p.Addr())
	}
	return &egress{Ports: []int{addr.Port}, Env: p.Env(), Stop: func() { p.Close() }}, nil
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

// name is the name of a NAME=VALUE variable.
func name(kv string) string {
	n, _, _ := strings.Cut(kv, "=")
	return n
}
