package proxy

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/netfilter"
)

// target is what a proxy request asks to reach: a name or an address, and a port.
type target struct {
	name string     // the canonical name; "" for an address
	addr netip.Addr // when the request spelt an address
	port uint16
}

func (t target) String() string {
	if t.name != "" {
		return net.JoinHostPort(t.name, fmt.Sprint(t.port))
	}
	return netip.AddrPortFrom(t.addr, t.port).String()
}

// parseTarget reads a host as the agent wrote it: an address in any spelling
// (netfilter.HostAddr), or a host name.
func parseTarget(host string, port uint16) (target, error) {
	if port == 0 {
		return target{}, fmt.Errorf("port 0 of %q", host)
	}
	if a, ok := netfilter.HostAddr(host); ok {
		return target{addr: a, port: port}, nil
	}
	name, err := netfilter.CanonicalHost(host)
	if err != nil {
		return target{}, err
	}
	return target{name: name, port: port}, nil
}

// route is where an allowed (or not yet denied) request goes.
type route struct {
	t     target
	flow  netfilter.Flow // the flow to the first address, as the policy judges it
	dsts  []netip.AddrPort
	d     netfilter.Decision
	bound []string // the name the addresses were resolved for
}

// errDenied is a request the policy refused; the event is recorded.
type errDenied struct{ reason string }

func (e errDenied) Error() string { return e.reason }

// plan resolves a target and judges it as the Linux stack would judge the agent's flow to
// each address: a name through the sandbox's resolver (which answers allowed names only and
// drops metadata answers), each address by Policy.Decide with the name it was resolved for.
// sniffed is the host the request already named (a plain HTTP request's Host), if any.
func (p *Proxy) plan(t target, sniffed string) (*route, error) {
	if !t.addr.IsValid() {
		return p.planName(t, sniffed)
	}
	flow := netfilter.Flow{Proto: netfilter.TCP, Dst: netip.AddrPortFrom(t.addr, t.port), Sniffed: sniffed}
	d := p.policy.Decide(flow, nil)
	if !d.Allow && !d.NeedsName {
		p.flowEvent(flow, d, 0)
		return nil, errDenied{d.Reason}
	}
	return &route{t: t, flow: flow, dsts: []netip.AddrPort{flow.Dst}, d: d}, nil
}

func (p *Proxy) planName(t target, sniffed string) (*route, error) {
	addrs, err := p.lookup(t.name)
	if err != nil {
		return nil, err
	}
	bound := []string{t.name}
	var r *route
	var denied []netfilter.Flow
	var why []netfilter.Decision
	for _, a := range addrs {
		flow := netfilter.Flow{Proto: netfilter.TCP, Dst: netip.AddrPortFrom(a, t.port), Sniffed: sniffed}
		d := p.policy.Decide(flow, bound)
		if !d.Allow && !d.NeedsName {
			denied, why = append(denied, flow), append(why, d)
			continue
		}
		if r == nil {
			r = &route{t: t, flow: flow, d: d, bound: bound}
		}
		r.dsts = append(r.dsts, flow.Dst)
	}
	if r != nil {
		return r, nil
	}
	if len(denied) == 0 {
		d := netfilter.Decision{Reason: fmt.Sprintf("%s resolved to no address that may be reached", t.name)}
		p.record(events.Event{Protocol: netfilter.TCP, Name: t.name, Port: t.port, Verdict: events.Denied, Reason: d.Reason})
		return nil, errDenied{d.Reason}
	}
	p.flowEvent(denied[0], why[0], 0)
	return nil, errDenied{why[0].Reason}
}

// lookup asks the sandbox's resolver for a name's A and AAAA records, as the agent's own
// lookups would on Linux: its decisions and events are the resolver's.
func (p *Proxy) lookup(name string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		q := new(dns.Msg)
		q.SetQuestion(dns.Fqdn(name), qtype)
		resp := p.resolver.Answer("udp", q)
		if resp.Rcode != dns.RcodeSuccess {
			if d := p.policy.AllowName(name); !d.Allow {
				return nil, errDenied{fmt.Sprintf("%s: %s", name, d.Reason)}
			}
			continue
		}
		for _, rr := range resp.Answer {
			switch r := rr.(type) {
			case *dns.A:
				if a, ok := netip.AddrFromSlice(r.A.To4()); ok {
					out = append(out, a)
				}
			case *dns.AAAA:
				if a, ok := netip.AddrFromSlice(r.AAAA.To16()); ok {
					out = append(out, a)
				}
			}
		}
	}
	return out, nil
}

// nameFirstFlight reads the first flight of a flow that must name its host and judges the
// flow again with what it named. It returns the bytes read, to forward, and for cleartext
// HTTP the check of every later request.
func (p *Proxy) nameFirstFlight(agent net.Conn, r *route) ([]byte, *netfilter.HTTPStream, error) {
	first, ff, err := netfilter.ReadFirstFlight(agent, p.opts.HandshakeTimeout)
	if err != nil {
		r.flow.Unnamed = err.Error()
	}
	r.flow.Sniffed = ff.Name
	if r.d = p.policy.Decide(r.flow, r.bound); !r.d.Allow {
		p.flowEvent(r.flow, r.d, 0)
		return nil, nil, errDenied{r.d.Reason}
	}
	var check *netfilter.HTTPStream
	if err == nil && ff.HTTP {
		check = netfilter.NewHTTPStream(p.judgeRequest(r))
	}
	return first, check, nil
}

// judgeRequest is the check of each HTTP request on a flow: it must name the flow's host
// (whatever the port) and the policy must allow the flow naming it. In audit mode what
// enforce mode would cut is recorded and let through.
func (p *Proxy) judgeRequest(r *route) func(string) error {
	return func(host string) error {
		f := r.flow
		f.Sniffed, f.Unnamed = host, ""
		want := r.t.name
		if want == "" {
			want = r.t.addr.String()
		}
		if h, ok := netfilter.HostAddr(host); ok && r.t.name == "" && h == r.t.addr || host == want {
			d := p.policy.Decide(f, r.bound)
			if !d.Allow {
				return fmt.Errorf("a request naming %s: %s", host, d.Reason)
			}
			if d.WouldDeny {
				p.flowEvent(f, d, 0)
			}
			return nil
		}
		reason := fmt.Sprintf("a request naming %s on a connection to %s", host, want)
		if p.policy.Auditing() {
			p.flowEvent(f, netfilter.Decision{Allow: true, WouldDeny: true, Name: r.d.Name, Rule: r.d.Rule, Reason: reason}, 0)
			return nil
		}
		return fmt.Errorf("%s", reason)
	}
}

// dial connects to the route's first reachable address.
func (p *Proxy) dial(r *route) (net.Conn, error) {
	var last error
	for _, dst := range r.dsts {
		up, err := p.opts.Dial(p.ctx, "tcp", dst.String())
		if err == nil {
			r.flow.Dst = dst
			return up, nil
		}
		last = err
	}
	p.flowEvent(r.flow, netfilter.Decision{Name: r.d.Name, Rule: r.d.Rule, Reason: "dialling from the host: " + last.Error()}, 0)
	return nil, last
}

// relay copies until both ends are done, then records the flow.
func (p *Proxy) relay(agent netfilter.HalfCloser, up net.Conn, r *route, first []byte, check *netfilter.HTTPStream) {
	defer up.Close()
	_ = agent.SetDeadline(time.Time{})
	var observe func(error)
	if check != nil && p.policy.Auditing() {
		observe = func(err error) {
			p.flowEvent(r.flow, netfilter.Decision{Allow: true, WouldDeny: true, Name: r.d.Name, Rule: r.d.Rule, Reason: "enforce mode would close the connection at " + err.Error()}, 0)
		}
	}
	n, cut := netfilter.Relay(agent, up, first, check, observe)
	if cut != nil {
		p.flowEvent(r.flow, netfilter.Decision{Name: r.d.Name, Rule: r.d.Rule, Reason: "the connection was closed at " + cut.Error()}, n)
		return
	}
	p.flowEvent(r.flow, r.d, n)
}

func (p *Proxy) record(e events.Event) {
	if p.sink == nil {
		return
	}
	e.Kind = events.KindFlow
	p.sink.Record(e)
}

// relayNamed serves a tunnel the agent has been told is up, to a destination that must be
// named first: its first flight must name the checked host, and only then is anything
// dialled and relayed.
func (p *Proxy) relayNamed(agent *prefixConn, r *route) {
	first, check, err := p.nameFirstFlight(agent, r)
	if err != nil {
		return
	}
	up, err := p.dial(r)
	if err != nil {
		return
	}
	p.relay(agent, up, r, first, check)
}

// flowEvent records a decision as the Linux stack does.
func (p *Proxy) flowEvent(f netfilter.Flow, d netfilter.Decision, bytes int64) {
	p.record(netfilter.FlowEvent(f, d, bytes, p.bindings.Names(f.Dst.Addr())))
}

// reasonOf is what a client is told about a refused request.
func reasonOf(err error) string {
	return strings.ReplaceAll(strings.ReplaceAll(err.Error(), "\r", " "), "\n", " ")
}
