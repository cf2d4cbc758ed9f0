package netstack

import (
	"net/netip"
	"testing"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// ipv4Packet builds an IPv4 packet to dst carrying payload of the given protocol.
func ipv4Packet(dst string, proto tcpip.TransportProtocolNumber, payload []byte) *stack.PacketBuffer {
	b := make([]byte, header.IPv4MinimumSize+len(payload))
	ip := header.IPv4(b)
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(len(b)), TTL: 64, Protocol: uint8(proto),
		SrcAddr: tcpip.AddrFromSlice(netip.MustParseAddr("10.254.254.2").AsSlice()),
		DstAddr: tcpip.AddrFromSlice(netip.MustParseAddr(dst).AsSlice()),
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	copy(b[header.IPv4MinimumSize:], payload)
	return stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(b)})
}

func TestICMPOf(t *testing.T) {
	echo := make([]byte, header.ICMPv4MinimumSize)
	header.ICMPv4(echo).SetType(header.ICMPv4Echo)
	pkt := ipv4Packet("198.18.0.1", header.ICMPv4ProtocolNumber, echo)
	defer pkt.DecRef()
	dst, isEcho, ok := icmpOf(header.IPv4ProtocolNumber, pkt)
	if !ok || !isEcho || dst != netip.MustParseAddr("198.18.0.1") {
		t.Errorf("echo request: dst %v echo %v icmp %v", dst, isEcho, ok)
	}
	udp := ipv4Packet("198.18.0.1", header.UDPProtocolNumber, make([]byte, header.UDPMinimumSize))
	defer udp.DecRef()
	if _, _, ok := icmpOf(header.IPv4ProtocolNumber, udp); ok {
		t.Error("a UDP packet was taken for ICMP")
	}
}
