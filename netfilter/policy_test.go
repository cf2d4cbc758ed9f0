package netfilter

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/netfilter/netfiltertest"
)

func testPolicy(t *testing.T, yaml string) *Policy {
	t.Helper()
	return NewPolicy(netfiltertest.Network(t, yaml), []netip.Addr{netip.MustParseAddr("198.51.100.7")})
}

func TestDecide(t *testing.T) {
	p := testPolicy(t, `name: p
network:
  allow:
    - allowed.test.example:443
    - "*.cdn.example:443"
    - github.example:22,443
    - 203.0.113.0/24:8080
    - 10.20.0.0/16:5432
    - 0.0.0.0/0:9999
  udp:
    - ntp.example:123
`)
	tcp := func(addr string, port uint16, sniff string) Flow {
		return Flow{Proto: TCP, Dst: netip.AddrPortFrom(netip.MustParseAddr(addr), port), Sniffed: sniff}
	}
	tests := []struct {
		name  string
		flow  Flow
		bound []string
		allow bool
		want  string // in the rule when allowed, in the reason when denied
	}{
		{"allowed name and SNI", tcp("192.0.2.10", 443, "allowed.test.example"), []string{"allowed.test.example"}, true, "allowed.test.example:443 (builtin/p.yaml:4:7)"},
		{"allowed name, first flight not read yet", tcp("192.0.2.10", 443, ""), []string{"allowed.test.example"}, false, "waiting for the connection to name its host"},
		{"allowed name, first flight names no host", Flow{Proto: TCP, Dst: netip.MustParseAddrPort("192.0.2.10:443"), Unnamed: "a malformed TLS ClientHello"}, []string{"allowed.test.example"}, false, "names no single host (a malformed TLS ClientHello); port 443 of allowed.test.example needs"},
		{"no name on a port the name does not allow", Flow{Proto: TCP, Dst: netip.MustParseAddrPort("192.0.2.10:80"), Unnamed: "x"}, []string{"allowed.test.example"}, false, "port 80 is not allowed"},
		{"another bound name sniffed", tcp("192.0.2.14", 443, "img.cdn.example"), []string{"allowed.test.example", "img.cdn.example"}, true, "*.cdn.example"},
		{"SNI any case", tcp("192.0.2.10", 443, "Allowed.Test.Example."), []string{"allowed.test.example"}, true, "allowed"},
		{"wildcard", tcp("192.0.2.11", 443, "img.cdn.example"), []string{"img.cdn.example"}, true, "*.cdn.example"},
		{"wildcard is not the apex", tcp("192.0.2.11", 443, ""), []string{"cdn.example"}, false, "port 443 is not allowed for cdn.example"},
		{"ssh port of a name", tcp("192.0.2.12", 22, ""), []string{"github.example"}, true, "github.example:22,443"},
		{"foreign SNI on an allowed address", tcp("192.0.2.10", 443, "evil.test"), []string{"allowed.test.example"}, false, "names evil.test, not allowed.test.example"},
		{"port not allowed for the name", tcp("192.0.2.10", 80, ""), []string{"allowed.test.example"}, false, "port 80 is not allowed"},
		{"address nobody resolved", tcp("192.0.2.99", 443, "allowed.test.example"), nil, false, "no allowed name was resolved"},
		{"CIDR rule", tcp("203.0.113.5", 8080, ""), nil, true, "203.0.113.0/24:8080"},
		{"CIDR rule, other port", tcp("203.0.113.5", 8081, ""), nil, false, "no allowed name"},
		{"private range named by a CIDR inside it", tcp("10.20.1.1", 5432, ""), nil, true, "10.20.0.0/16:5432"},
		{"private range not named", tcp("10.1.1.1", 5432, ""), nil, false, "10.0.0.0/8"},
		{"0.0.0.0/0 does not open private space", tcp("192.168.1.1", 9999, ""), nil, false, "192.168.0.0/16"},
		{"0.0.0.0/0 opens public space", tcp("192.0.2.200", 9999, ""), nil, true, "0.0.0.0/0:9999"},
		{"host loopback", tcp("127.0.0.1", 9999, ""), nil, false, "127.0.0.0/8"},
		{"host's own address", tcp("198.51.100.7", 9999, ""), nil, false, "198.51.100.7/32"},
		{"allowed name resolving to a private address", tcp("10.9.9.9", 443, "allowed.test.example"), []string{"allowed.test.example"}, false, "10.0.0.0/8"},
		{"metadata", tcp("169.254.169.254", 80, ""), nil, false, "always denied"},
		{"metadata via rebinding", tcp("169.254.169.254", 443, "allowed.test.example"), []string{"allowed.test.example"}, false, "always denied"},
		{"metadata mapped", tcp("::ffff:169.254.169.254", 80, ""), nil, false, "always denied"},
		{"metadata NAT64", tcp("64:ff9b::a9fe:a9fe", 80, ""), nil, false, "always denied"},
		{"private NAT64", tcp("64:ff9b::a00:1", 9999, ""), nil, false, "10.0.0.0/8"},
		{"ULA", tcp("fd12::1", 9999, ""), nil, false, "fc00::/7"},
		{"UDP to a TCP-allowed name (QUIC)", Flow{Proto: UDP, Dst: netip.MustParseAddrPort("192.0.2.10:443")}, []string{"allowed.test.example"}, false, "port 443 is not allowed"},
		{"UDP rule", Flow{Proto: UDP, Dst: netip.MustParseAddrPort("192.0.2.13:123")}, []string{"ntp.example"}, true, "ntp.example:123"},
		{"ICMP", Flow{Proto: ICMP, Dst: netip.MustParseAddrPort("192.0.2.10:0")}, []string{"allowed.test.example"}, false, "ICMP"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := p.Decide(tc.flow, tc.bound)
			if d.NeedsName != (tc.flow.Sniffed == "" && tc.flow.Unnamed == "" && strings.Contains(tc.want, "waiting")) {
				t.Errorf("Decide = %+v: NeedsName wrong", d)
			}
			if d.Allow != tc.allow {
				t.Fatalf("Decide = %+v, want allow %v", d, tc.allow)
			}
			got := d.Reason
			if d.Allow {
				got = d.Rule
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("Decide = %+v, want %q in it", d, tc.want)
			}
		})
	}
}

func TestAllowName(t *testing.T) {
	p := testPolicy(t, "name: p\nnetwork:\n  allow: [allowed.test.example, \"*.cdn.example\"]\n  udp: [ntp.example:123]\n")
	for name, want := range map[string]bool{
		"allowed.test.example":     true,
		"ALLOWED.test.example.":    true,
		"x.allowed.test.example":   false,
		"img.cdn.example":          true,
		"a.b.cdn.example":          true,
		"cdn.example":              false,
		"ntp.example":              true,
		"secret.attacker.test":     false,
		"metadata.google.internal": false,
	} {
		if got := p.AllowName(name); got.Allow != want {
			t.Errorf("AllowName(%q) = %+v, want %v", name, got, want)
		}
	}
}

func TestAudit(t *testing.T) {
	enforce := testPolicy(t, "name: p\nnetwork:\n  allow: [allowed.test.example]\n")
	p := enforce.Audit()
	tcp := func(addr string, port uint16) Flow {
		return Flow{Proto: TCP, Dst: netip.AddrPortFrom(netip.MustParseAddr(addr), port)}
	}
	named := func(f Flow, sniffed, unnamed string) Flow { f.Sniffed, f.Unnamed = sniffed, unnamed; return f }
	for _, tc := range []struct {
		flow      Flow
		bound     []string
		allow     bool
		wouldDeny bool
	}{
		{named(tcp("203.0.113.9", 443), "allowed.test.example", ""), []string{"allowed.test.example"}, true, false},
		{named(tcp("203.0.113.9", 443), "evil.test", ""), []string{"allowed.test.example"}, true, true},
		{named(tcp("203.0.113.9", 443), "", "a malformed TLS ClientHello"), []string{"allowed.test.example"}, true, true},
		{tcp("203.0.113.9", 443), []string{"evil.test"}, true, true},
		{tcp("203.0.113.9", 22), nil, true, true},
		{tcp("10.0.0.1", 80), nil, true, true},
		{tcp("169.254.169.254", 80), nil, false, false},
		{tcp("::ffff:169.254.169.254", 80), nil, false, false},
		{Flow{Proto: ICMP, Dst: netip.AddrPortFrom(netip.MustParseAddr("203.0.113.9"), 0)}, nil, false, false},
	} {
		d := p.Decide(tc.flow, tc.bound)
		if d.Allow != tc.allow || d.WouldDeny != tc.wouldDeny {
			t.Errorf("audit Decide(%v, %v) = %+v, want allow %v, would-deny %v", tc.flow, tc.bound, d, tc.allow, tc.wouldDeny)
		}
		if d.WouldDeny && d.Reason == "" {
			t.Errorf("audit Decide(%v): would-deny without the reason enforce mode gives", tc.flow)
		}
		if e := enforce.Decide(tc.flow, tc.bound); e.Allow != (tc.allow && !tc.wouldDeny) || e.WouldDeny {
			t.Errorf("enforce Decide(%v, %v) = %+v: audit mode leaked into the enforcing policy", tc.flow, tc.bound, e)
		}
	}
	// Waiting for a name is not a denial audit mode turns into an allow.
	if d := p.Decide(tcp("203.0.113.9", 443), []string{"allowed.test.example"}); d.Allow || !d.NeedsName {
		t.Errorf("audit Decide before the first flight = %+v, want NeedsName", d)
	}
	if d := p.AllowName("secret.attacker.test"); !d.Allow || !d.WouldDeny {
		t.Errorf("audit AllowName(secret.attacker.test) = %+v, want allowed and would-deny", d)
	}
	if d := p.AllowName("metadata.google.internal"); d.Allow {
		t.Errorf("audit AllowName(metadata.google.internal) = %+v, want denied: metadata is always denied", d)
	}
}
