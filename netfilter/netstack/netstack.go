// Package netstack serves the sandbox's network with gVisor's userspace TCP/IP stack: every
// TCP connection and UDP flow the agent starts ends here, is judged by the egress policy
// (after sniffing its TLS SNI or HTTP Host), and is then dialled from the host, or refused at
// once. DNS to the gateway is answered by the sandbox's resolver. It is the only package that
// imports gVisor.
package netstack

import (
	"context"
	"fmt"
	"io"
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
	nicID = 1
	// sniffTimeout is how long a new connection may stay silent before it is judged without
	// a name (a server-speaks-first protocol, or an idle client).
	sniffTimeout = 500 * time.Millisecond
	udpIdle      = 60 * time.Second
	dnsIdle      = 5 * time.Second // a resolver's source port is used once or twice
	relayBuffer  = 256 << 10
)

// Config is what a Stack needs.
type Config struct {
	Policy   *netfilter.Policy
	Bindings *netfilter.Bindings
	Resolver *resolver.Server
	Events   events.Sink
	RunID    string
	Profile  string
	// Gateways are the sandbox's DNS server addresses (its resolv.conf names them).
	Gateways []netip.Addr
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
	if cfg.Dial == nil {
		cfg.Dial = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	}
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol},
	})
	ctx, cancel := context.WithCancel(context.Background())
	st := &Stack{cfg: cfg, s: s, ctx: ctx, cancel: cancel}
	if err := s.CreateNIC(nicID, newICMPFilter(ep, st)); err != nil {
		cancel()
		return nil, fmt.Errorf("creating the sandbox's network interface: %s", err)
	}
	// Every destination is ours: the forwarders see each flow as addressed to this stack.
	if err := s.SetPromiscuousMode(nicID, true); err != nil {
		return nil, fmt.Errorf("setting up the sandbox's network: %s", err)
	}
	if err := s.SetSpoofing(nicID, true); err != nil {
		return nil, fmt.Errorf("setting up the sandbox's network: %s", err)
	}
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
	return st, nil
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
	e.RunID, e.Profile, e.Kind = st.cfg.RunID, st.cfg.Profile, events.KindFlow
	st.cfg.Events.Record(e)
}

func (st *Stack) flowEvent(f netfilter.Flow, d netfilter.Decision, bytes int64) {
	v := events.Denied
	switch {
	case d.WouldDeny:
		v = events.WouldDeny
	case d.Allow:
		v = events.Allowed
	}
	name := d.Name
	if name == "" {
		name = f.Sniffed
	}
	if bound := st.cfg.Bindings.Names(f.Dst.Addr()); name == "" && len(bound) > 0 {
		name = bound[0]
	}
	st.record(events.Event{Protocol: f.Proto, Name: name, Address: f.Dst.Addr().String(), Port: f.Dst.Port(), Verdict: v, Rule: d.Rule, Reason: d.Reason, Bytes: bytes})
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
	// A sniffed name only narrows the names a flow may match, so what is denied without one
	// is refused before the handshake completes.
	if d := st.cfg.Policy.Decide(flow, bound); !d.Allow {
		req.Complete(true)
		st.flowEvent(flow, d, 0)
		return
	}
	st.acceptTCP(req, func(c *gonet.TCPConn) {
		first := sniff(c)
		flow.Sniffed = netfilter.SniffName(first)
		d := st.cfg.Policy.Decide(flow, st.cfg.Bindings.Names(dst.Addr()))
		if !d.Allow {
			st.flowEvent(flow, d, 0)
			return
		}
		up, err := st.cfg.Dial(st.ctx, "tcp", dst.String())
		if err != nil {
			st.flowEvent(flow, netfilter.Decision{Name: d.Name, Rule: d.Rule, Reason: "dialling from the host: " + err.Error()}, 0)
			return
		}
		defer up.Close()
		n := relay(c, up, first)
		st.flowEvent(flow, d, n)
	})
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

// sniff reads a connection's first bytes until they name a host, the client pauses, or
// enough has come.
func sniff(c *gonet.TCPConn) []byte {
	var first []byte
	buf := make([]byte, 4096)
	deadline := time.Now().Add(sniffTimeout)
	for !netfilter.SniffComplete(first) {
		_ = c.SetReadDeadline(deadline)
		n, err := c.Read(buf)
		first = append(first, buf[:n]...)
		if err != nil {
			break
		}
	}
	_ = c.SetReadDeadline(time.Time{})
	return first
}

// relay copies between the agent's connection and the real one until both ends are done,
// and returns the bytes moved.
func relay(agent *gonet.TCPConn, up net.Conn, first []byte) int64 {
	var total int64
	var mu sync.Mutex
	add := func(n int64) { mu.Lock(); total += n; mu.Unlock() }
	if len(first) > 0 {
		n, err := up.Write(first)
		add(int64(n))
		if err != nil {
			return total
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		n, _ := io.CopyBuffer(up, agent, make([]byte, relayBuffer))
		add(n)
		if cw, ok := up.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
	}()
	go func() {
		defer wg.Done()
		n, _ := io.CopyBuffer(agent, up, make([]byte, relayBuffer))
		add(n)
		_ = agent.CloseWrite()
	}()
	wg.Wait()
	return total
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
