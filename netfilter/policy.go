package netfilter

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/metadata"
)

// Protocols of flows.
const (
	TCP  = "tcp"
	UDP  = "udp"
	ICMP = "icmp"
)

// Flow is one connection (TCP) or datagram flow (UDP) the agent starts, or an ICMP echo.
type Flow struct {
	Proto string
	Dst   netip.AddrPort
	// Sniffed is the host the flow's first flight named (TLS SNI or HTTP Host, see
	// SniffFirstFlight); "" when it was not read.
	Sniffed string
	// Unnamed, when the first flight was read and names no single host, says why.
	Unnamed string
}

// Decision is the policy's answer for a flow or a name.
type Decision struct {
	Allow  bool
	Name   string // the allowed name the flow was matched to, if any
	Rule   string // the rule that allowed it, with where it was written
	Reason string // why it was denied, for people
	// WouldDeny marks, in audit mode, a flow or name that is allowed although enforce mode
	// would deny it (Reason says why).
	WouldDeny bool
	// NeedsName marks a TCP flow to port 80 or 443 that a name allows by address: it is
	// denied until its first flight is read and names that name; Decide it again with
	// Sniffed or Unnamed set.
	NeedsName bool
	always    bool // denied whatever the mode: cloud metadata
}

// Policy decides flows and names for one sandbox. It is immutable and safe for concurrent
// use; the names the DNS server handed out are passed to Decide.
type Policy struct {
	tcp, udp []profiles.NetRule
	host     []netip.Addr // the host's own addresses: never reachable
	audit    bool
}

// NewPolicy compiles a profile's network rules. hostAddrs are the host's own addresses.
func NewPolicy(n profiles.NetworkPolicy, hostAddrs []netip.Addr) *Policy {
	return &Policy{tcp: n.Allow, udp: n.UDP, host: hostAddrs}
}

func ruleText(r profiles.NetRule) string {
	if r.Origin.File == "" {
		return r.String()
	}
	return r.String() + " (" + r.Origin.String() + ")"
}

func matchName(r profiles.NetRule, name string) bool {
	if r.Host == "" {
		return false
	}
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if r.Wildcard {
		return strings.HasSuffix(name, "."+r.Host)
	}
	return name == r.Host
}

func portAllowed(r profiles.NetRule, port uint16) bool {
	for _, p := range r.Ports {
		if p.From <= port && port <= p.To {
			return true
		}
	}
	return false
}

// Audit returns the policy in audit mode: what enforce mode would deny is allowed and marked
// WouldDeny, except what is always denied (cloud metadata).
func (p *Policy) Audit() *Policy {
	q := *p
	q.audit = true
	return &q
}

// Auditing reports whether the policy is in audit mode.
func (p *Policy) Auditing() bool { return p.audit }

// audited applies audit mode to a decision.
func (p *Policy) audited(d Decision) Decision {
	if p.audit && !d.Allow && !d.always && !d.NeedsName {
		d.Allow, d.WouldDeny = true, true
	}
	return d
}

// AllowName decides a DNS query: a name is answered only when a TCP or UDP rule names it.
// Metadata names never are.
func (p *Policy) AllowName(name string) Decision {
	return p.audited(p.allowName(name))
}

func (p *Policy) allowName(name string) Decision {
	if metadata.DeniedName(name) {
		return Decision{Reason: "cloud-metadata name, always denied", always: true}
	}
	for _, rules := range [][]profiles.NetRule{p.tcp, p.udp} {
		for _, r := range rules {
			if matchName(r, name) {
				return Decision{Allow: true, Name: name, Rule: ruleText(r)}
			}
		}
	}
	return Decision{Reason: "no rule allows this name"}
}

// Decide judges a flow. bound are the names the sandbox's DNS server answered with the
// flow's destination address (still valid). A flow is allowed to an address handed out for an
// allowed name, on a port allowed for that name — on ports 80 and 443 only once its first
// flight names that name (NeedsName until it is read); or to an address a CIDR rule allows.
// Metadata addresses never are; private and loopback ranges and the host's own addresses
// only when a CIDR inside them names them.
func (p *Policy) Decide(f Flow, bound []string) Decision {
	return p.audited(p.decide(f, bound))
}

func (p *Policy) decide(f Flow, bound []string) Decision {
	addr, port := f.Dst.Addr(), f.Dst.Port()
	if metadata.DeniedAddr(addr) {
		return Decision{Reason: "cloud-metadata or link-local address, always denied", always: true}
	}
	if f.Proto == ICMP {
		return Decision{Reason: "ICMP is not relayed", always: true}
	}
	rules := p.tcp
	if f.Proto == UDP {
		rules = p.udp
	}
	private, isPrivate := privateRange(addr)
	for _, h := range p.host {
		if h == addr.Unmap() {
			isPrivate, private = true, netip.PrefixFrom(h, h.BitLen())
		}
	}
	// By address: a CIDR rule; for private space, only one that lies inside it.
	for _, r := range rules {
		if !r.Prefix.IsValid() || !r.Prefix.Contains(addr.Unmap()) || !portAllowed(r, port) {
			continue
		}
		if isPrivate && !(r.Prefix.Bits() >= private.Bits() && private.Contains(r.Prefix.Addr())) {
			continue
		}
		return Decision{Allow: true, Rule: ruleText(r)}
	}
	if isPrivate {
		return Decision{Reason: fmt.Sprintf("%s is in %s (private, loopback or the host's own), which no rule names", addr, private)}
	}
	// By name: the DNS server handed this address out for an allowed name. On ports 80
	// and 443 the flow must name that name too (fail closed: no name is no match).
	sniffed := strings.TrimSuffix(strings.ToLower(f.Sniffed), ".")
	named := f.Proto == TCP && NeedsName(port)
	var waiting *Decision
	for _, name := range bound {
		for _, r := range rules {
			if !matchName(r, name) || !portAllowed(r, port) {
				continue
			}
			switch {
			case !named || sniffed == strings.ToLower(name):
				return Decision{Allow: true, Name: name, Rule: ruleText(r)}
			case sniffed == "" && f.Unnamed == "" && waiting == nil:
				waiting = &Decision{NeedsName: true, Name: name, Rule: ruleText(r), Reason: "waiting for the connection to name its host (TLS SNI or HTTP Host)"}
			}
		}
	}
	switch {
	case waiting != nil:
		return *waiting
	case len(bound) == 0:
		return Decision{Reason: "no allowed name was resolved to this address, and no rule names it"}
	case sniffed != "":
		return Decision{Reason: fmt.Sprintf("the connection names %s, not %s, which this address was resolved for", sniffed, strings.Join(bound, ", "))}
	case named && f.Unnamed != "" && p.allowsPort(bound, rules, port):
		return Decision{Reason: fmt.Sprintf("the connection names no single host (%s); port %d of %s needs its TLS SNI or HTTP Host", f.Unnamed, port, strings.Join(bound, ", "))}
	default:
		return Decision{Reason: fmt.Sprintf("port %d is not allowed for %s", port, strings.Join(bound, ", "))}
	}
}

// allowsPort reports whether a rule allows one of the bound names on port.
func (p *Policy) allowsPort(bound []string, rules []profiles.NetRule, port uint16) bool {
	for _, name := range bound {
		for _, r := range rules {
			if matchName(r, name) && portAllowed(r, port) {
				return true
			}
		}
	}
	return false
}
