// Package metadata lists the cloud-metadata endpoints, names and environment variables that
// agentrun always denies, whatever a profile says, and recognises them in every spelling.
package metadata

import (
	"net/netip"
	"strings"
)

// deniedPrefixes are metadata and link-local services reachable from cloud instances.
var deniedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("169.254.0.0/16"),     // link-local; AWS, GCP, Azure, OpenStack IMDS at .169.254
	netip.MustParsePrefix("168.63.129.16/32"),   // Azure wire server
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud metadata
	netip.MustParsePrefix("192.0.0.192/32"),     // Oracle Cloud metadata
	netip.MustParsePrefix("fe80::/10"),          // IPv6 link-local
	netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS IMDS over IPv6
	netip.MustParsePrefix("fd00:ec2::23/128"),   // AWS DNS over IPv6 (Route 53 resolver)
}

// deniedNames are metadata host names. A name is denied if it equals one of these or is a
// subdomain of one.
var deniedNames = []string{
	"metadata.google.internal",
	"metadata.goog",
	"metadata",
	"instance-data",
	"instance-data.ec2.internal",
	"metadata.azure.internal",
	"metadata.platformequinix.com",
	"kubernetes.default",
	"kubernetes.default.svc",
	"kubernetes.default.svc.cluster.local",
}

// deniedEnvPrefixes are variables that point a process at a metadata or orchestrator service.
var deniedEnvPrefixes = []string{
	"AWS_CONTAINER_",
	"ECS_",
	"KUBERNETES_SERVICE_",
	"KUBERNETES_PORT",
}

// Prefixes returns the always-denied address ranges (IPv4 forms embedded in IPv6 are
// recognised by DeniedAddr, not listed here).
func Prefixes() []netip.Prefix {
	return append([]netip.Prefix(nil), deniedPrefixes...)
}

// DeniedAddr reports whether a is a metadata address, directly or as an IPv4 address embedded
// in IPv6 (IPv4-mapped, IPv4-compatible, NAT64, 6to4 or Teredo).
func DeniedAddr(a netip.Addr) bool {
	a = a.WithZone("")
	for _, p := range deniedPrefixes {
		if p.Contains(a) {
			return true
		}
	}
	if a.Is6() {
		for _, v4 := range EmbeddedIPv4(a) {
			if DeniedAddr(v4) {
				return true
			}
		}
	}
	return false
}

// DeniedPrefix reports whether every address of p is always denied, so allowing p would allow
// nothing. For an IPv6 prefix that embeds IPv4 only its first address is examined.
func DeniedPrefix(p netip.Prefix) bool {
	p = p.Masked()
	for _, d := range deniedPrefixes {
		if d.Bits() <= p.Bits() && d.Contains(p.Addr()) {
			return true
		}
	}
	return p.IsSingleIP() && DeniedAddr(p.Addr())
}

var (
	mapped    = netip.MustParsePrefix("::ffff:0:0/96")
	compat    = netip.MustParsePrefix("::/96")
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	nat64loc  = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour = netip.MustParsePrefix("2002::/16")
	teredo    = netip.MustParsePrefix("2001::/32")
)

// EmbeddedIPv4 returns the IPv4 addresses that a carries in the well-known embeddings
// (IPv4-mapped and -compatible, NAT64, 6to4, Teredo).
func EmbeddedIPv4(a netip.Addr) []netip.Addr {
	b := a.As16()
	v4 := func(x []byte) netip.Addr { return netip.AddrFrom4([4]byte{x[0], x[1], x[2], x[3]}) }
	var out []netip.Addr
	switch {
	case mapped.Contains(a), compat.Contains(a), nat64.Contains(a):
		out = append(out, v4(b[12:16]))
	case nat64loc.Contains(a):
		// RFC 6052 /48: IPv4 in bits 48-63 and 72-87 (octet 8 is the reserved "u" octet).
		out = append(out, v4([]byte{b[6], b[7], b[9], b[10]}))
	case sixToFour.Contains(a):
		out = append(out, v4(b[2:6]))
	case teredo.Contains(a):
		// Teredo: server IPv4 in bits 32-63, client IPv4 inverted in bits 96-127.
		client := []byte{^b[12], ^b[13], ^b[14], ^b[15]}
		out = append(out, v4(b[4:8]), v4(client))
	}
	return out
}

// DeniedName reports whether host (any case, with or without a trailing dot) is a metadata
// name or a subdomain of one.
func DeniedName(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, n := range deniedNames {
		if host == n || strings.HasSuffix(host, "."+n) {
			return true
		}
	}
	return false
}

// DeniedEnv reports whether an environment variable points at a metadata or orchestrator
// service and so is removed from every sandbox.
func DeniedEnv(name string) bool {
	for _, p := range deniedEnvPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
