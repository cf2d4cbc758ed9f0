package profiles

import (
	"fmt"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"

	"github.com/agentrun/agentrun/profiles/metadata"
)

// DefaultPort is the port a network rule gets when it names none: HTTPS.
const DefaultPort = 443

// NetRule is one validated network.allow or network.udp entry.
type NetRule struct {
	Host     string       `json:"host,omitempty"`     // lower-case ASCII name; for a wildcard, the domain after "*."
	Wildcard bool         `json:"wildcard,omitempty"` // any subdomain of Host (not Host itself)
	Prefix   netip.Prefix `json:"prefix,omitzero"`    // set for address and CIDR rules
	Ports    []PortRange  `json:"ports"`
	Origin   Pos          `json:"origin"`
}

// PortRange is an inclusive range of ports.
type PortRange struct {
	From uint16 `json:"from"`
	To   uint16 `json:"to"`
}

func (r PortRange) String() string {
	if r.From == r.To {
		return strconv.Itoa(int(r.From))
	}
	return fmt.Sprintf("%d-%d", r.From, r.To)
}

// String writes the rule in the profile syntax.
func (r NetRule) String() string {
	var host string
	switch {
	case r.Host != "" && r.Wildcard:
		host = "*." + r.Host
	case r.Host != "":
		host = r.Host
	case r.Prefix.IsSingleIP():
		host = r.Prefix.Addr().String()
	default:
		host = r.Prefix.String()
	}
	if r.Prefix.IsValid() && r.Prefix.Addr().Is6() {
		host = "[" + host + "]"
	}
	ports := make([]string, len(r.Ports))
	for i, p := range r.Ports {
		ports[i] = p.String()
	}
	return host + ":" + strings.Join(ports, ",")
}

// key identifies the destination of a rule, without its ports.
func (r NetRule) key() string {
	if r.Host != "" {
		if r.Wildcard {
			return "*." + r.Host
		}
		return r.Host
	}
	return r.Prefix.String()
}

// parseNetRule checks one entry of network.allow (udp false) or network.udp (udp true).
func parseNetRule(raw string, udp bool) (NetRule, error) {
	var r NetRule
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return r, fmt.Errorf("empty entry; write a host such as api.example.com:443")
	case strings.ContainsAny(s, " \t"):
		return r, fmt.Errorf("%q contains a space; write one host per entry", raw)
	case s == "none":
		return r, fmt.Errorf("\"none\" is not a host; to turn networking off write \"network: none\" instead of an allow list")
	case s == "*" || strings.HasPrefix(s, "*:"):
		return r, fmt.Errorf("%q would allow every host; list the hosts the agent needs, or write 0.0.0.0/0 and ::/0 to allow every address", raw)
	case strings.Contains(s, "://"):
		return r, fmt.Errorf("%q is a URL; write the host and port only, e.g. %q", raw, urlHint(s))
	}
	host, ports, err := splitHostPorts(s)
	if err != nil {
		return r, fmt.Errorf("%q: %v", raw, err)
	}
	if ports == "" {
		if udp {
			return r, fmt.Errorf("%q: a UDP rule needs a port, e.g. %s:123", raw, host)
		}
		r.Ports = []PortRange{{DefaultPort, DefaultPort}}
	} else if r.Ports, err = parsePorts(ports); err != nil {
		return r, fmt.Errorf("%q: %v", raw, err)
	}
	if looksLikeAddress(host) {
		r.Prefix, err = parseAddrOrPrefix(host)
		if err != nil {
			return r, fmt.Errorf("%q: %v", raw, err)
		}
		if metadata.DeniedPrefix(r.Prefix) {
			return r, fmt.Errorf("%q is a cloud-metadata or link-local address; it is always denied and no profile can allow it", raw)
		}
		return r, nil
	}
	r.Host, r.Wildcard, err = parseHostName(host)
	if err != nil {
		return r, fmt.Errorf("%q: %v", raw, err)
	}
	return r, nil
}

func urlHint(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return "api.example.com:443"
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return u.Hostname() + ":" + port
}

// splitHostPorts separates "host:ports", "[v6]:ports", a bare host and a bare IPv6 address.
func splitHostPorts(s string) (host, ports string, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", fmt.Errorf("missing \"]\" after the IPv6 address")
		}
		host, rest := s[1:end], s[end+1:]
		switch {
		case rest == "":
			return host, "", nil
		case strings.HasPrefix(rest, ":"):
			return host, rest[1:], nil
		default:
			return "", "", fmt.Errorf("unexpected %q after \"]\"; write [ADDRESS]:PORT", rest)
		}
	}
	if strings.Count(s, ":") > 1 {
		// A bare IPv6 address or prefix. Ports need brackets.
		if _, err := parseAddrOrPrefix(s); err != nil {
			return "", "", fmt.Errorf("not a valid IPv6 address; to give ports write [ADDRESS]:PORT, e.g. [2001:db8::1]:443")
		}
		// 2001:db8::1:443 is an address, but it may be meant as 2001:db8::1 port 443.
		if i := strings.LastIndexByte(s, ':'); !strings.Contains(s, "/") && strings.Trim(s[i+1:], "0123456789") == "" {
			if a, err := netip.ParseAddr(s[:i]); err == nil {
				return "", "", fmt.Errorf("ambiguous: write [%s]:%s for port %s of %s, or [%s] for the address %s", a, s[i+1:], s[i+1:], a, s, s)
			}
		}
		return s, "", nil
	}
	host, ports, _ = strings.Cut(s, ":")
	if strings.Contains(s, ":") && ports == "" {
		return "", "", fmt.Errorf("no port after \":\"; write a port such as %s:443, or leave out the colon", host)
	}
	return host, ports, nil
}

func parsePorts(s string) ([]PortRange, error) {
	var out []PortRange
	for _, part := range strings.Split(s, ",") {
		if part == "*" {
			return nil, fmt.Errorf("\"*\" is not a port; write 1-65535 for every port")
		}
		from, to, isRange := strings.Cut(part, "-")
		a, err := parsePort(from)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = parsePort(to); err != nil {
				return nil, err
			}
			if b < a {
				return nil, fmt.Errorf("port range %s is backwards; write %d-%d", part, b, a)
			}
		}
		out = append(out, PortRange{a, b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].From < out[j].From })
	for i := 1; i < len(out); i++ {
		if out[i].From <= out[i-1].To {
			return nil, fmt.Errorf("port %s is listed twice; list each port once", out[i])
		}
	}
	return out, nil
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.Atoi(s)
	if err != nil || s == "" || s[0] == '+' {
		return 0, fmt.Errorf("%q is not a port number; write a number from 1 to 65535", s)
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %d is out of range; write a number from 1 to 65535", n)
	}
	return uint16(n), nil
}

// looksLikeAddress reports whether host is meant as an IP address or CIDR rather than a name:
// it contains a colon or a slash, or it is made of digits and dots only.
func looksLikeAddress(host string) bool {
	if strings.ContainsAny(host, ":/") {
		return true
	}
	return strings.Trim(host, "0123456789.") == ""
}

func parseAddrOrPrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if !strings.ContainsAny(strings.SplitN(s, "/", 2)[0], ":") && strings.Trim(strings.SplitN(s, "/", 2)[0], "0123456789.") != "" {
				return p, fmt.Errorf("a host name cannot contain \"/\"; write the host only")
			}
			return p, fmt.Errorf("not a valid CIDR; write an address, a slash and a prefix length, e.g. 10.0.0.0/8")
		}
		if p.Addr().Zone() != "" {
			return p, fmt.Errorf("zones (%%%s) are not supported; remove the zone", p.Addr().Zone())
		}
		if m := p.Masked(); m != p {
			return p, fmt.Errorf("a /%d network starts at %s; write %s for the network, or %s alone for one address", p.Bits(), m.Addr(), m, p.Addr())
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("not a valid IP address; write four numbers from 0 to 255, such as 192.0.2.10, or a host name")
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("zones (%%%s) are not supported; remove the zone", a.Zone())
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

var idnaProfile = idna.New(idna.MapForLookup(), idna.StrictDomainName(true), idna.VerifyDNSLength(true), idna.BidiRule())

// parseHostName validates a DNS name, with an optional leading "*." wildcard.
func parseHostName(host string) (name string, wildcard bool, err error) {
	if strings.HasPrefix(host, "*.") {
		wildcard, host = true, host[2:]
	}
	if strings.Contains(host, "*") {
		return "", false, fmt.Errorf("a wildcard can only be the whole first label, as in *.example.com")
	}
	host = strings.TrimSuffix(host, ".")
	ascii, err := idnaProfile.ToASCII(host)
	if err != nil || ascii == "" {
		return "", false, fmt.Errorf("not a valid host name (letters, digits and hyphens in dot-separated labels of at most 63 characters)")
	}
	ascii = strings.ToLower(ascii)
	labels := strings.Split(ascii, ".")
	if wildcard && len(labels) == 1 {
		return "", false, fmt.Errorf("%q is a top-level domain, a public suffix, so *.%s would match sites of many unrelated owners; name a registrable domain such as *.example.%s", ascii, ascii, ascii)
	}
	if len(labels) < 2 {
		return "", false, fmt.Errorf("%q is a single-label name, which does not resolve on the internet; write a fully qualified name such as %s.example.com", ascii, ascii)
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", false, fmt.Errorf("the last label of a host name cannot be all digits; write a host name or a full IP address")
	}
	suffix, icann := publicsuffix.PublicSuffix(ascii)
	switch {
	case wildcard && suffix == ascii:
		return "", false, fmt.Errorf("%q is on the public suffix list: its subdomains belong to many unrelated owners, so *.%s could reach anyone's site; list the hosts you need, e.g. %s", ascii, ascii, "api."+ascii)
	case !wildcard && suffix == ascii && icann:
		return "", false, fmt.Errorf("%q is a public suffix, not a host; write the full host name", ascii)
	case !wildcard && metadata.DeniedName(ascii):
		return "", false, fmt.Errorf("%q is a cloud-metadata name; it is always denied and no profile can allow it", ascii)
	}
	return ascii, wildcard, nil
}
