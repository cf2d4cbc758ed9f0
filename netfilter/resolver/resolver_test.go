package resolver

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/netfilter"
	"github.com/agentrun/agentrun/netfilter/netfiltertest"
)

// fakeUpstream is a DNS server on loopback with a fixed zone that records every name it is
// asked, so tests can prove a name never left the sandbox.
type fakeUpstream struct {
	mu    sync.Mutex
	asked []string
	zone  map[string][]string // name → A/AAAA addresses
}

func (f *fakeUpstream) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	q := req.Question[0]
	f.mu.Lock()
	f.asked = append(f.asked, q.Name)
	f.mu.Unlock()
	resp := new(dns.Msg)
	resp.SetReply(req)
	for _, a := range f.zone[strings.ToLower(q.Name)] {
		ip := netip.MustParseAddr(a)
		switch {
		case ip.Is4() && q.Qtype == dns.TypeA:
			resp.Answer = append(resp.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: ip.AsSlice()})
		case ip.Is6() && q.Qtype == dns.TypeAAAA:
			resp.Answer = append(resp.Answer, &dns.AAAA{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: 60}, AAAA: ip.AsSlice()})
		}
	}
	if len(f.zone[strings.ToLower(q.Name)]) == 0 {
		resp.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(resp)
}

func (f *fakeUpstream) wasAsked(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.asked {
		if strings.EqualFold(strings.TrimSuffix(a, "."), name) {
			return true
		}
	}
	return false
}

// listen opens a UDP and a TCP socket on the same loopback port.
func listen(t *testing.T) (net.PacketConn, net.Listener) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	return pc, l
}

// serve starts a DNS server on loopback UDP and TCP; the test ends it.
func serve(t *testing.T, h dns.Handler) string {
	t.Helper()
	pc, l := listen(t)
	udp, tcp := &dns.Server{PacketConn: pc, Handler: h}, &dns.Server{Listener: l, Handler: h}
	go func() { _ = udp.ActivateAndServe() }()
	go func() { _ = tcp.ActivateAndServe() }()
	t.Cleanup(func() { _ = udp.Shutdown(); _ = tcp.Shutdown() })
	return pc.LocalAddr().String()
}

func TestResolver(t *testing.T) {
	up := &fakeUpstream{zone: map[string][]string{
		"allowed.test.example.": {"192.0.2.10", "2001:db8::10"},
		"rebind.test.example.":  {"169.254.169.254", "192.0.2.20"},
		"secret.attacker.test.": {"203.0.113.66"},
	}}
	upstream := serve(t, up)
	network := netfiltertest.Network(t, "name: p\nnetwork:\n  allow: [allowed.test.example, rebind.test.example]\n")
	rec := &events.Memory{}
	srv := &Server{Policy: netfilter.NewPolicy(network, nil), Bindings: netfilter.NewBindings(), Upstream: upstream, Events: rec}
	pc, l := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = srv.Serve(ctx, pc, l) }()
	addr := pc.LocalAddr().String()

	query := func(network, name string, qtype uint16) *dns.Msg {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), qtype)
		r, _, err := (&dns.Client{Net: network}).Exchange(m, addr)
		if err != nil {
			t.Fatalf("%s %s: %v", network, name, err)
		}
		return r
	}

	// Allowed, over UDP and TCP, IPv4 and IPv6; the answers are bound to the name.
	if r := query("udp", "allowed.test.example", dns.TypeA); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Errorf("allowed A: %v", r)
	}
	if r := query("tcp", "Allowed.Test.Example", dns.TypeAAAA); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Errorf("allowed AAAA over TCP: %v", r)
	}
	for _, a := range []string{"192.0.2.10", "2001:db8::10"} {
		if got := srv.Bindings.Names(netip.MustParseAddr(a)); len(got) != 1 || got[0] != "allowed.test.example" {
			t.Errorf("binding of %s = %v", a, got)
		}
	}
	// Denied names are answered NXDOMAIN and never reach the upstream resolver.
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{"secret.attacker.test", dns.TypeA}, {"secret.attacker.test", dns.TypeTXT}, {"metadata.google.internal", dns.TypeA}, {"x.allowed.test.example", dns.TypeA}} {
		if r := query("udp", q.name, q.qtype); r.Rcode != dns.RcodeNameError {
			t.Errorf("%s: rcode %s, want NXDOMAIN", q.name, dns.RcodeToString[r.Rcode])
		}
		if up.wasAsked(q.name) {
			t.Errorf("%s reached the upstream resolver", q.name)
		}
	}
	// Other record types of an allowed name are not looked up.
	if r := query("udp", "allowed.test.example", dns.TypeTXT); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("TXT of an allowed name: %v", r)
	}
	// An allowed name rebound to the metadata address: that answer is dropped.
	r := query("udp", "rebind.test.example", dns.TypeA)
	if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.20" {
		t.Errorf("rebinding answer: %v", r.Answer)
	}
	if got := srv.Bindings.Names(netip.MustParseAddr("169.254.169.254")); len(got) != 0 {
		t.Errorf("the metadata address was bound to %v", got)
	}
	// Every query is an event.
	denied := 0
	all := rec.Events()
	for _, e := range all {
		if e.Kind != events.KindDNS || e.Name == "" {
			t.Errorf("bad event %+v", e)
		}
		if e.Verdict == events.Denied {
			denied++
		}
	}
	if len(all) != 9 || denied != 6 {
		t.Errorf("%d events, %d denied; want 9 and 6: %+v", len(all), denied, all)
	}
}

// In audit mode a name enforce mode would refuse is looked up upstream and marked would-deny;
// metadata names stay unanswered and never leave.
func TestResolverAudit(t *testing.T) {
	up := &fakeUpstream{zone: map[string][]string{"secret.attacker.test.": {"203.0.113.66"}}}
	upstream := serve(t, up)
	network := netfiltertest.Network(t, "name: p\nnetwork:\n  allow: [allowed.test.example]\n")
	rec := &events.Memory{}
	srv := &Server{Policy: netfilter.NewPolicy(network, nil).Audit(), Bindings: netfilter.NewBindings(), Upstream: upstream, Events: rec}
	m := new(dns.Msg)
	m.SetQuestion("secret.attacker.test.", dns.TypeA)
	if r := srv.Answer("udp", m); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Errorf("audit A of a would-deny name: %v", r)
	}
	if got := srv.Bindings.Names(netip.MustParseAddr("203.0.113.66")); len(got) != 1 {
		t.Errorf("the would-deny answer is not bound to its name: %v", got)
	}
	m.SetQuestion("metadata.google.internal.", dns.TypeA)
	if r := srv.Answer("udp", m); r.Rcode != dns.RcodeNameError {
		t.Errorf("audit metadata name: rcode %s, want NXDOMAIN", dns.RcodeToString[r.Rcode])
	}
	if up.wasAsked("metadata.google.internal") {
		t.Error("a metadata name reached the upstream resolver in audit mode")
	}
	var verdicts []events.Verdict
	for _, e := range rec.Events() {
		verdicts = append(verdicts, e.Verdict)
	}
	if len(verdicts) != 2 || verdicts[0] != events.WouldDeny || verdicts[1] != events.Denied {
		t.Errorf("verdicts = %v, want [would-deny denied]", verdicts)
	}
}
