package proxy

import (
	"context"
	"fmt"
	"net"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/netfilter"
	"github.com/agentrun/agentrun/profiles"
)

// Egress is the proxy as one run uses it, where the host's sandbox sends the agent's network
// through it (macOS, Windows): the ports the sandbox lets the agent reach, the variables that
// point the agent's tools at them, and how to stop it.
type Egress struct {
	Ports []int
	Env   []string
	Stop  func()
}

// StartFor starts the proxy for pol on the loopback, recording every flow to sink (audit
// mode: judged, recorded, let through), or nothing when pol has no network.
func StartFor(ctx context.Context, pol *profiles.Policy, sink events.Sink) (*Egress, error) {
	if pol.Network.None() {
		return &Egress{Stop: func() {}}, nil
	}
	policy := netfilter.NewPolicy(pol.Network, netfilter.HostAddrs())
	if pol.Mode == profiles.ModeAudit {
		policy = policy.Audit()
	}
	p, err := Start(ctx, policy, sink, Options{})
	if err != nil {
		return nil, fmt.Errorf("starting agentrun's egress proxy (the network layer): %w", err)
	}
	addr, ok := p.Addr().(*net.TCPAddr)
	if !ok {
		p.Close()
		return nil, fmt.Errorf("agentrun's egress proxy listens on %s, not a TCP port", p.Addr())
	}
	return &Egress{Ports: []int{addr.Port}, Env: p.Env(), Stop: func() { p.Close() }}, nil
}
