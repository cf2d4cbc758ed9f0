package netfilter

import "net/netip"

// The sandbox's side of its network: the agent's addresses on its TUN device, and the
// gateway, where the userspace stack answers DNS. Private and unique-local space, so no
// destination on the internet is shadowed; both are default-denied as destinations.
var (
	SandboxPrefix4 = netip.MustParsePrefix("10.254.254.2/30")
	Gateway4       = netip.MustParseAddr("10.254.254.1")
	SandboxPrefix6 = netip.MustParsePrefix("fd00:a9e::2/64")
	Gateway6       = netip.MustParseAddr("fd00:a9e::1")
	// MTU of the TUN device: large, since the link is virtual and every flow is re-originated
	// from the host with its own segment size; fewer, bigger packets cross the TUN device.
	MTU = 65520
)
