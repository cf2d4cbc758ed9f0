package netfilter

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// CanonicalHost checks a host name as a TLS server name or HTTP Host is checked (ASCII
// letters, digits, '-', '_' in dot-separated labels) and returns it lower-case without a
// trailing dot.
func CanonicalHost(h string) (string, error) { return validHost(h) }

// HostAddr reports whether a host, as an agent wrote it in a URL or proxy request, is an
// address: an IPv4 or IPv6 literal (bracketed or not, with or without a zone), or an IPv4
// address in one of the spellings inet_aton(3) takes and programs pass on to the kernel —
// decimal (2852039166), hex (0xa9fea9fe), octal (0251.0376.0251.0376), short forms
// (169.254.43518) and their mixes. Such a host is judged as the address it spells, never
// looked up as a name.
func HostAddr(h string) (netip.Addr, bool) {
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if a, err := netip.ParseAddr(h); err == nil {
		return a, true
	}
	return legacyIPv4(strings.TrimSuffix(h, "."))
}

// legacyIPv4 parses inet_aton's forms: one to four parts, each decimal, 0x hex or 0 octal,
// the last part filling the bytes the others leave.
func legacyIPv4(h string) (netip.Addr, bool) {
	parts := strings.Split(h, ".")
	if h == "" || len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		n, ok := inetPart(p)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 0xff {
				return netip.Addr{}, false
			}
			v = v<<8 | n
			continue
		}
		bits := 8 * uint(4-i)
		if n >= 1<<bits {
			return netip.Addr{}, false
		}
		v = v<<bits | n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func inetPart(p string) (uint64, bool) {
	base, digits := 10, p
	switch {
	case len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X"):
		base, digits = 16, p[2:]
	case len(p) > 1 && p[0] == '0':
		base, digits = 8, p[1:]
	}
	if digits == "" || strings.ContainsAny(digits, "+-_xXoObB") {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, base, 32)
	return n, err == nil
}

// HostAddrs are the host's own addresses, which the agent may never reach (NewPolicy's
// hostAddrs).
func HostAddrs() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out
}
