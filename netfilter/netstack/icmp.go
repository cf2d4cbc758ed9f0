package netstack

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/nested"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/agentrun/agentrun/netfilter"
)

// icmpFilter sits between the sandbox's link and the stack: it drops every ICMP packet the
// agent sends (the stack owns every address and would answer pings itself) and records echo
// requests as denied flows.
type icmpFilter struct {
	nested.Endpoint
	st *Stack
}

func newICMPFilter(child stack.LinkEndpoint, st *Stack) *icmpFilter {
	f := &icmpFilter{st: st}
	f.Init(child, f)
	return f
}

// DeliverNetworkPacket passes everything but ICMP to the stack.
func (f *icmpFilter) DeliverNetworkPacket(protocol tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	if dst, echo, ok := icmpOf(protocol, pkt); ok {
		if echo {
			flow := netfilter.Flow{Proto: netfilter.ICMP, Dst: netip.AddrPortFrom(dst, 0)}
			f.st.flowEvent(flow, f.st.cfg.Policy.Decide(flow, nil), 0)
		}
		return
	}
	f.Endpoint.DeliverNetworkPacket(protocol, pkt)
}

// icmpOf reports whether pkt is ICMP (or ICMPv6 other than neighbour discovery, which the
// link needs), its destination, and whether it is an echo request.
func icmpOf(protocol tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) (dst netip.Addr, echo, ok bool) {
	b := pkt.ToView().AsSlice()
	switch protocol {
	case header.IPv4ProtocolNumber:
		ip := header.IPv4(b)
		if !ip.IsValid(len(b)) || ip.TransportProtocol() != header.ICMPv4ProtocolNumber {
			return dst, false, false
		}
		icmp := header.ICMPv4(ip.Payload())
		dst, _ = netip.AddrFromSlice(ip.DestinationAddressSlice())
		return dst, len(icmp) >= header.ICMPv4MinimumSize && icmp.Type() == header.ICMPv4Echo, true
	case header.IPv6ProtocolNumber:
		ip := header.IPv6(b)
		if !ip.IsValid(len(b)) || tcpip.TransportProtocolNumber(ip.NextHeader()) != header.ICMPv6ProtocolNumber {
			return dst, false, false
		}
		icmp := header.ICMPv6(ip.Payload())
		if len(icmp) < header.ICMPv6MinimumSize {
			return dst, false, false
		}
		switch icmp.Type() {
		case header.ICMPv6NeighborSolicit, header.ICMPv6NeighborAdvert, header.ICMPv6RouterSolicit:
			return dst, false, false
		}
		dst, _ = netip.AddrFromSlice(ip.DestinationAddressSlice())
		return dst, icmp.Type() == header.ICMPv6EchoRequest, true
	}
	return dst, false, false
}
