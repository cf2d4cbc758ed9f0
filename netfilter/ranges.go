package netfilter

import (
	"net/netip"

	"github.com/agentrun/agentrun/profiles/metadata"
)

// defaultDenied are ranges no agent reaches unless a profile names them with a CIDR that
// lies inside them: the host's loopback, private networks, shared address space, unique local
// IPv6, multicast and reserved space.
var defaultDenied = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("ff00::/8"),
}

// privateRange returns the default-denied range that holds a, directly or as embedded IPv4.
func privateRange(a netip.Addr) (netip.Prefix, bool) {
	addrs := append([]netip.Addr{a.Unmap()}, metadata.EmbeddedIPv4(a)...)
	for _, x := range addrs {
		for _, p := range defaultDenied {
			if p.Contains(x) {
				return p, true
			}
		}
	}
	return netip.Prefix{}, false
}
