// Package netstack serves the sandbox's network with gVisor's userspace TCP/IP stack: every
// TCP connection and UDP flow the agent starts ends here, is judged by the egress policy
// (on ports 80 and 443 of a name, once its first flight named the host: TLS SNI or HTTP
// Host, and for cleartext HTTP every request after it), and is then dialled from the host,
// or refused. DNS to the gateway is answered by the sandbox's resolver. It is the only package that
// imports gVisor.
package netstack

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/netfilter"
	"github.com/agentrun/agentrun/netfilter/resolver"
)

const (
	nicID   = 1
	udpIdle = 60 * time.Second
	dnsIdle = 5 * time.Second // a resolver's source port is used once or twice
)

// Config is what a Stack needs.
type Config struct {
	Policy   *netfilter.Policy
	Bindings *netfilter.Bindings
	Resolver *resolver.Server
	Events   events.Sink // stamped with the run by the caller (events.Stamp)
	// Gateways are the sandbox's DNS server addresses (its resolv.conf names them).
	Gateways []netip.Addr
	// FirstFlightTimeout bounds how long a flow that must name its host may take to send
	// its first flight; netfilter.FirstFlightTimeout when zero.
	FirstFlightTimeout time.Duration
	// Dial connects to a real destination from the host side.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// Stack is one sandbox's network.
type Stack struct {
	cfg    Config
	s      *stack.Stack
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New serves the link endpoint ep (the sandbox's TUN device, or a pipe in tests).
func New(ep stack.LinkEndpoint, cfg Config) (*Stack, error) {
	st := Prepare(cfg)
	if err := st.Attach(ep); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// Prepare makes the stack without its network interface, which Attach adds once the link
// exists: agentrun prepares it while the sandbox's stage is still making the TUN device, so
// that only the interface is left for when the device comes.
func Prepare(cfg Config) *Stack {
	if cfg.Dial == nil {
		cfg.Dial = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	}
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol},
	})
	ctx, cancel := context.WithCancel(context.Background())
	st := &Stack{cfg: cfg, s: s, ctx: ctx, cancel: cancel}
	// No ICMP out either: unreachable messages tell nothing the agent needs, and the
	// agent's own ICMP never reaches the stack (icmpFilter). Pings time out.
	s.SetICMPLimit(0)
	s.SetICMPBurst(0)
	s.SetRouteTable([]tcpip.Route{
		{Destination: header.IPv4EmptySubnet, NIC: nicID},
		{Destination: header.IPv6EmptySubnet, NIC: nicID},
	})
	tuneTCP(s)
	tcpFwd := tcp.NewForwarder(s, tcpWindow, 1024, st.handleTCP)
	s.SetTransportProtocolHandler(tcp.ProtocolNumber, tcpFwd.HandlePacket)
	udpFwd := udp.NewForwarder(s, st.handleUDP)
	s.SetTransportProtocolHandler(udp.ProtocolNumber, udpFwd.HandlePacket)
	return st
}

// Attach gives a prepared stack its one network interface, on ep.
func (st *Stack) Attach(ep stack.LinkEndpoint) error {
	s := st.s
	if err := s.CreateNIC(nicID, newICMPFilter(ep, st)); err != nil {
		return fmt.Errorf("creating the sandbox's network interface: %s", err)
	}
	// Every destination is ours: the forwarders see each flow as addressed to this stack.
	if err := s.SetPromiscuousMode(nicID, true); err != nil {
		return fmt.Errorf("setting up the sandbox's network: %s", err)
	}
	if err := s.SetSpoofing(nicID, true); err != nil {
		return fmt.Errorf("setting up the sandbox's network: %s", err)
	}
	return nil
}

// tcpWindow is the receive window a new connection starts with; with SACK and receive
// buffer moderation the stack grows it from there.
const tcpWindow = 1 << 20

// tuneTCP sets the buffers of a stack that relays bulk transfers at memory speed.
func tuneTCP(s *stack.Stack) {
	sack := tcpip.TCPSACKEnabled(true)
	moderate := tcpip.TCPModerateReceiveBufferOption(true)
	send := tcpip.TCPSendBufferSizeRangeOption{Min: 4 << 10, Default: 1 << 20, Max: 8 << 20}
	recv := tcpip.TCPReceiveBufferSizeRangeOption{Min: 4 << 10, Default: 1 << 20, Max: 8 << 20}
	for _, opt := range []tcpip.SettableTransportProtocolOption{&sack, &moderate, &send, &recv} {
		_ = s.SetTransportProtocolOption(tcp.ProtocolNumber, opt)
	}
}

// Close ends every flow and the stack.
func (st *Stack) Close() {
	st.cancel()
	st.s.Close()
	st.wg.Wait()
}

func addrOf(a tcpip.Address) netip.Addr {
	ip, _ := netip.AddrFromSlice(a.AsSlice())
	return ip.Unmap()
}

func (st *Stack) isGateway(a netip.Addr) bool {
	for _, g := range st.cfg.Gateways {
		if g == a {
			return true
		}
	}
	return false
}

func (st *Stack) record(e events.Event) {
	if st.cfg.Events == nil {
		return
	}
	e.Kind = events.KindFlow
	st.cfg.Events.Record(e)
}

func (st *Stack) flowEvent(f netfilter.Flow, d netfilter.Decision, bytes int64) {
	st.record(netfilter.FlowEvent(f, d, bytes, st.cfg.Bindings.Names(f.Dst.Addr())))
}

func (st *Stack) handleTCP(req *tcp.ForwarderRequest) {
	id := req.ID()
	dst := netip.AddrPortFrom(addrOf(id.LocalAddress), id.LocalPort)
	if st.isGateway(dst.Addr()) && dst.Port() == 53 {
		st.acceptTCP(req, st.serveDNSOverTCP)
		return
	}
	flow := netfilter.Flow{Proto: netfilter.TCP, Dst: dst}
	bound := st.cfg.Bindings.Names(dst.Addr())
	// What is denied whatever the flow names is refused before the handshake completes.
	d := st.cfg.Policy.Decide(flow, bound)
	if !d.Allow && !d.NeedsName {
		st.flowEvent(flow, d, 0) // before the reset, so the event is there when the agent sees it
		req.Complete(true)
		return
	}
	st.acceptTCP(req, func(c *gonet.TCPConn) {
		var first []byte
		var check *netfilter.HTTPStream
		if d.NeedsName {
			var ff netfilter.FirstFlight
			var err error
			first, ff, err = netfilter.ReadFirstFlight(c, st.sniffTimeout())
			if err != nil {
				flow.Unnamed = err.Error()
			}
			flow.Sniffed = ff.Name
			if d = st.cfg.Policy.Decide(flow, st.cfg.Bindings.Names(dst.Addr())); !d.Allow {
				st.flowEvent(flow, d, 0)
				return
			}
			if err == nil && ff.HTTP {
				check = netfilter.NewHTTPStream(st.judgeRequest(flow))
			}
		}
		up, err := st.cfg.Dial(st.ctx, "tcp", dst.String())
		if err != nil {
			st.flowEvent(flow, netfilter.Decision{Name: d.Name, Rule: d.Rule, Reason: "dialling from the host: " + err.Error()}, 0)
			return
		}
		defer up.Close()
		var observe func(error)
		if check != nil && st.cfg.Policy.Auditing() {
			// Audit mode: requests are read as they pass, and what enforce mode would cut
			// is recorded once, not cut.
			observe = func(err error) {
				st.flowEvent(flow, netfilter.Decision{Allow: true, WouldDeny: true, Name: d.Name, Rule: d.Rule, Reason: "enforce mode would close the connection at " + err.Error()}, 0)
			}
		}
		n, cut := netfilter.Relay(c, up, first, check, observe)
		if cut != nil {
			st.flowEvent(flow, netfilter.Decision{Name: d.Name, Rule: d.Rule, Reason: "the connection was closed at " + cut.Error()}, n)
			return
		}
		st.flowEvent(flow, d, n)
	})
}

// judgeRequest returns the check of each later HTTP request's Host on a flow: the policy's
// decision for the flow naming that host. In audit mode a request enforce mode would cut is
// recorded and let through.
func (st *Stack) judgeRequest(flow netfilter.Flow) func(string) error {
	return func(host string) error {
		f := flow
		f.Sniffed, f.Unnamed = host, ""
		d := st.cfg.Policy.Decide(f, st.cfg.Bindings.Names(f.Dst.Addr()))
		if !d.Allow {
			return fmt.Errorf("a request naming %s: %s", host, d.Reason)
		}
		if d.WouldDeny {
			st.flowEvent(f, d, 0)
		}
		return nil
	}
}

func (st *Stack) sniffTimeout() time.Duration {
	if st.cfg.FirstFlightTimeout > 0 {
		return st.cfg.FirstFlightTimeout
	}
	return netfilter.FirstFlightTimeout
}

// acceptTCP completes the handshake and runs serve on the connection.
func (st *Stack) acceptTCP(req *tcp.ForwarderRequest, serve func(*gonet.TCPConn)) {
	var wq waiter.Queue
	ep, err := req.CreateEndpoint(&wq)
	if err != nil {
		req.Complete(true)
		return
	}
	req.Complete(false)
	c := gonet.NewTCPConn(&wq, ep)
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		defer c.Close()
		serve(c)
	}()
}

func (st *Stack) serveDNSOverTCP(c *gonet.TCPConn) {
	conn := &dns.Conn{Conn: c}
	for {
		_ = c.SetReadDeadline(time.Now().Add(udpIdle))
		req, err := conn.ReadMsg()
		if err != nil {
			return
		}
		if err := conn.WriteMsg(st.cfg.Resolver.Answer("tcp", req)); err != nil {
			return
		}
	}
}

func (st *Stack) handleUDP(req *udp.ForwarderRequest) bool {
	id := req.ID()
	dst := netip.AddrPortFrom(addrOf(id.LocalAddress), id.LocalPort)
	if st.isGateway(dst.Addr()) && dst.Port() == 53 {
		c, ok := st.udpConn(req)
		if ok {
			st.goServe(func() { st.serveDNSOverUDP(c) })
		}
		return true
	}
	flow := netfilter.Flow{Proto: netfilter.UDP, Dst: dst}
	d := st.cfg.Policy.Decide(flow, st.cfg.Bindings.Names(dst.Addr()))
	if !d.Allow {
		st.flowEvent(flow, d, 0)
		return true // dropped
	}
	c, ok := st.udpConn(req)
	if !ok {
		return true
	}
	st.goServe(func() {
		defer c.Close()
		up, err := st.cfg.Dial(st.ctx, "udp", dst.String())
		if err != nil {
			st.flowEvent(flow, netfilter.Decision{Name: d.Name, Rule: d.Rule, Reason: "dialling from the host: " + err.Error()}, 0)
			return
		}
		defer up.Close()
		st.flowEvent(flow, d, relayUDP(c, up))
	})
	return true
}

func (st *Stack) goServe(f func()) {
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		f()
	}()
}

func (st *Stack) udpConn(req *udp.ForwarderRequest) (*gonet.UDPConn, bool) {
	var wq waiter.Queue
	ep, err := req.CreateEndpoint(&wq)
	if err != nil {
		return nil, false
	}
	return gonet.NewUDPConn(&wq, ep), true
}

func (st *Stack) serveDNSOverUDP(c *gonet.UDPConn) {
	defer c.Close()
	buf := make([]byte, 65535)
	for {
		_ = c.SetReadDeadline(time.Now().Add(dnsIdle))
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		req := new(dns.Msg)
		if req.Unpack(buf[:n]) != nil {
			continue
		}
		resp := st.cfg.Resolver.Answer("udp", req)
		resp.Truncate(dns.MinMsgSize)
		if out, err := resp.Pack(); err == nil {
			_, _ = c.Write(out)
		}
	}
}

// relayUDP copies datagrams both ways until the flow is idle, and returns the bytes moved.
func relayUDP(agent *gonet.UDPConn, up net.Conn) int64 {
	var total int64
	var mu sync.Mutex
	done := make(chan struct{}, 2)
	pump := func(dst, src net.Conn) {
		buf := make([]byte, 65535)
		for {
			_ = src.SetReadDeadline(time.Now().Add(udpIdle))
			n, err := src.Read(buf)
			if err != nil {
				break
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				break
			}
			mu.Lock()
			total += int64(n)
			mu.Unlock()
		}
		done <- struct{}{}
	}
	go pump(up, agent)
	go pump(agent, up)
	<-done
	_ = agent.Close()
	_ = up.Close()
	<-done
	return total
}
