package netstack

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/pipe"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/netfilter"
	"github.com/agentrun/agentrun/netfilter/netfiltertest"
	"github.com/agentrun/agentrun/netfilter/resolver"
)

var (
	gateway  = netip.MustParseAddr("10.254.254.1")
	sandbox  = netip.MustParseAddr("10.254.254.2")
	allowed  = netip.MustParseAddr("192.0.2.10") // what the fake DNS gives allowed.test.example
	stranger = netip.MustParseAddr("192.0.2.99")
)

type recorder struct{ events.Memory }

func (r *recorder) find(verdict events.Verdict, substr string) bool {
	for _, e := range r.Events() {
		if e.Verdict == verdict && strings.Contains(e.Reason+e.Rule+e.Name+e.Address, substr) {
			return true
		}
	}
	return false
}

// fixture is a sandbox-side gVisor stack wired to a Stack by a pipe, with a fake upstream
// DNS server and a TLS server on loopback standing in for the real destinations.
type fixture struct {
	client *stack.Stack
	st     *Stack
	rec    *recorder
	tlsURL string
	dialed []string
	mu     sync.Mutex
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{rec: &recorder{}}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello from "+r.Host)
	}))
	t.Cleanup(srv.Close)
	f.tlsURL = srv.Listener.Addr().String()

	up := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		resp := new(dns.Msg)
		resp.SetReply(req)
		if q := req.Question[0]; q.Qtype == dns.TypeA && q.Name == "allowed.test.example." {
			resp.Answer = append(resp.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: allowed.AsSlice()})
		}
		_ = w.WriteMsg(resp)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dnsSrv := &dns.Server{PacketConn: pc, Handler: up}
	go func() { _ = dnsSrv.ActivateAndServe() }()
	t.Cleanup(func() { _ = dnsSrv.Shutdown() })

	network := netfiltertest.Network(t, "name: p\nnetwork:\n  allow: [allowed.test.example:443]\n")
	policy, bindings := netfilter.NewPolicy(network, nil), netfilter.NewBindings()
	ep1, ep2 := pipe.New("\x02\x00\x00\x00\x00\x01", "\x02\x00\x00\x00\x00\x02", 1500)
	f.st, err = New(ep2, Config{
		Policy: policy, Bindings: bindings, Events: f.rec, Gateways: []netip.Addr{gateway},
		Resolver: &resolver.Server{Policy: policy, Bindings: bindings, Upstream: pc.LocalAddr().String(), Events: f.rec},
		// The "internet": every allowed destination is the loopback TLS server.
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			f.mu.Lock()
			f.dialed = append(f.dialed, address)
			f.mu.Unlock()
			return (&net.Dialer{}).DialContext(ctx, network, f.tlsURL)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.st.Close)

	f.client = stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol},
	})
	if err := f.client.CreateNIC(1, ep1); err != nil {
		t.Fatal(err)
	}
	if err := f.client.AddProtocolAddress(1, tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddrFromSlice(sandbox.AsSlice()).WithPrefix()}, stack.AddressProperties{}); err != nil {
		t.Fatal(err)
	}
	f.client.SetRouteTable([]tcpip.Route{{Destination: header.IPv4EmptySubnet, NIC: 1}})
	t.Cleanup(f.client.Close)
	return f
}

func full(a netip.Addr, port uint16) tcpip.FullAddress {
	return tcpip.FullAddress{NIC: 1, Addr: tcpip.AddrFromSlice(a.AsSlice()), Port: port}
}

// lookup asks the sandbox's resolver at the gateway, as the agent's libc would.
func (f *fixture) lookup(t *testing.T, name string) *dns.Msg {
	t.Helper()
	c, err := gonet.DialUDP(f.client, nil, &tcpip.FullAddress{NIC: 1, Addr: tcpip.AddrFromSlice(gateway.AsSlice()), Port: 53}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	out, _ := m.Pack()
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("DNS answer for %s: %v", name, err)
	}
	resp := new(dns.Msg)
	if err := resp.Unpack(buf[:n]); err != nil {
		t.Fatal(err)
	}
	return resp
}

func (f *fixture) dial(t *testing.T, a netip.Addr, port uint16) (net.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return gonet.DialContextTCP(ctx, f.client, full(a, port), ipv4.ProtocolNumber)
}

// get makes an HTTPS request to addr with the given SNI, through the sandbox's stack.
func (f *fixture) get(t *testing.T, a netip.Addr, sni string) (string, error) {
	t.Helper()
	c, err := f.dial(t, a, 443)
	if err != nil {
		return "", err
	}
	defer c.Close()
	tc := tls.Client(c, &tls.Config{ServerName: sni, InsecureSkipVerify: true})
	_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(tc, "GET / HTTP/1.1\r\nHost: "+sni+"\r\nConnection: close\r\n\r\n"); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(tc), nil)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	return string(body), nil
}

func TestAllowedNameThroughTheStack(t *testing.T) {
	f := newFixture(t)
	resp := f.lookup(t, "allowed.test.example")
	if len(resp.Answer) != 1 {
		t.Fatalf("DNS: %v", resp)
	}
	body, err := f.get(t, allowed, "allowed.test.example")
	if err != nil || body != "hello from allowed.test.example" {
		t.Fatalf("GET through the sandbox: %q, %v", body, err)
	}
	if !f.rec.find(events.Allowed, "allowed.test.example:443") {
		t.Errorf("no allowed flow event: %+v", f.rec.Events())
	}
}

func TestDeniedFlows(t *testing.T) {
	f := newFixture(t)
	if r := f.lookup(t, "secret.attacker.test"); r.Rcode != dns.RcodeNameError {
		t.Errorf("a denied name resolved: %v", r)
	}
	f.lookup(t, "allowed.test.example")
	// An address nobody resolved: refused at once.
	if c, err := f.dial(t, stranger, 443); err == nil {
		c.Close()
		t.Error("connected to an address no allowed name resolved to")
	}
	// The metadata address: refused at once.
	if c, err := f.dial(t, netip.MustParseAddr("169.254.169.254"), 80); err == nil {
		c.Close()
		t.Error("connected to the metadata address")
	}
	// An allowed address with a foreign SNI: the handshake never completes.
	if body, err := f.get(t, allowed, "evil.test"); err == nil {
		t.Errorf("foreign SNI got through: %q", body)
	}
	// The allowed address on a port the name does not allow.
	if c, err := f.dial(t, allowed, 80); err == nil {
		c.Close()
		t.Error("connected on a port the profile does not allow")
	}
	for _, want := range []string{"no allowed name was resolved", "always denied", "names evil.test", "port 80 is not allowed"} {
		if !f.rec.find(events.Denied, want) {
			t.Errorf("no denied event with %q", want)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.dialed) != 0 {
		t.Errorf("denied flows were dialled from the host: %v", f.dialed)
	}
}
