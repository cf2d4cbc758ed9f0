package learn

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/metadata"
)

// netDest is a network destination being learned: a name or an address, and its ports.
type netDest struct {
	name  string     // lower-case host name, or ""
	addr  netip.Addr // the address, when there is no name
	ports map[uint16]bool
}

// entry writes the destination as a network.allow or network.udp item: a bare host means
// port 443 in network.allow; an address is written as the one-address CIDR.
func (d *netDest) entry(section string) string {
	host := d.name
	if host == "" {
		host = netip.PrefixFrom(d.addr, d.addr.BitLen()).String()
	}
	ports := make([]int, 0, len(d.ports))
	for p := range d.ports {
		ports = append(ports, int(p))
	}
	slices.Sort(ports)
	if section == SectionNetworkAllow && len(ports) == 1 && ports[0] == profiles.DefaultPort {
		return host
	}
	if d.name == "" && d.addr.Is6() {
		host = "[" + host + "]"
	}
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return host + ":" + strings.Join(s, ",")
}

const metadataWhy = "cloud metadata is always denied, and no profile can allow it"

// network makes one candidate per destination and section from flow and DNS observations.
func (l *learner) network(obs []Observation) []*cand {
	byKey := map[string]*cand{}
	var out []*cand
	flowNames := map[string]bool{}
	// add counts o for the destination d in section, with port unless it is 0.
	add := func(section string, d netDest, port uint16, o Observation) {
		key := section + " " + d.name
		if d.name == "" {
			key = section + " " + d.addr.String()
		}
		c, ok := byKey[key]
		if !ok {
			d.ports = map[uint16]bool{}
			c = &cand{section: section, net: &d, countOf: map[string]int64{}}
			byKey[key] = c
			out = append(out, c)
		}
		if port != 0 {
			c.net.ports[port] = true
		}
		c.merge(&cand{count: o.Count, countOf: map[string]int64{o.Target: o.Count}, example: o.Example, exCount: o.Count})
	}
	var lookups []Observation
	for _, o := range obs {
		if o.Kind == events.KindDNS {
			lookups = append(lookups, o)
			continue
		}
		host, port, err := splitTarget(o.Target)
		if err != nil {
			l.refuse(o.Target, o.Count, err.Error())
			continue
		}
		d := destination(host, o.Example)
		if d.name != "" {
			flowNames[d.name] = true
		}
		if d.name != "" && metadata.DeniedName(d.name) || d.addr.IsValid() && metadata.DeniedAddr(d.addr) {
			l.refuse(o.Target, o.Count, metadataWhy)
			continue
		}
		var section string
		switch o.Op {
		case "tcp":
			section = SectionNetworkAllow
		case "udp":
			section = SectionNetworkUDP
		default:
			l.refuse(o.Target, o.Count, fmt.Sprintf("a profile allows TCP and UDP destinations only, not %s", o.Op))
			continue
		}
		if l.netAllowed(section, d, port) {
			continue
		}
		if d.name != "" {
			d.addr = netip.Addr{} // named rules only
		}
		add(section, d, port, o)
	}
	for _, o := range lookups {
		name := strings.TrimSuffix(strings.ToLower(o.Target), ".")
		d := netDest{name: name}
		switch {
		case metadata.DeniedName(name):
			l.refuse(o.Target, o.Count, metadataWhy)
		case byKey[SectionNetworkAllow+" "+name] != nil:
			add(SectionNetworkAllow, d, 0, o) // the lookup before a connection already learned
		case byKey[SectionNetworkUDP+" "+name] != nil:
			add(SectionNetworkUDP, d, 0, o)
		case flowNames[name], l.netAllowed(SectionNetworkAllow, d, 0), l.netAllowed(SectionNetworkUDP, d, 0):
			// Connected to, and decided there; or already allowed.
		case strings.HasSuffix(name, ".in-addr.arpa") || strings.HasSuffix(name, ".ip6.arpa"):
			l.refuse(o.Target, o.Count, "a reverse lookup names an address, not a destination to allow")
		default:
			add(SectionNetworkAllow, d, profiles.DefaultPort, o)
		}
	}
	return out
}

// splitTarget splits "host:port" or "[v6]:port".
func splitTarget(t string) (host string, port uint16, err error) {
	i := strings.LastIndexByte(t, ':')
	if i < 0 {
		return "", 0, fmt.Errorf("no port recorded for %q; a network rule needs one", t)
	}
	n, err := strconv.ParseUint(t[i+1:], 10, 16)
	if err != nil || n == 0 {
		return "", 0, fmt.Errorf("no port recorded for %q; a network rule needs one", t)
	}
	host = strings.TrimSuffix(strings.TrimPrefix(t[:i], "["), "]")
	if host == "" {
		return "", 0, fmt.Errorf("no host recorded for %q", t)
	}
	return host, uint16(n), nil
}

// destination makes a netDest from a flow's host, taking the address from the example event
// when the host is a name (for the metadata check only).
func destination(host string, e events.Event) netDest {
	if a, err := netip.ParseAddr(host); err == nil {
		return netDest{addr: a.WithZone("").Unmap()}
	}
	d := netDest{name: strings.TrimSuffix(strings.ToLower(host), ".")}
	if a, err := netip.ParseAddr(e.Address); err == nil {
		d.addr = a.WithZone("").Unmap()
	}
	return d
}

// netAllowed reports whether a rule of the policy already lets the agent reach d on port
// (any port when port is 0).
func (l *learner) netAllowed(section string, d netDest, port uint16) bool {
	rules := l.pol.Network.Allow
	if section == SectionNetworkUDP {
		rules = l.pol.Network.UDP
	}
	for _, r := range rules {
		hostOK := r.Host != "" && d.name != "" && (!r.Wildcard && r.Host == d.name || r.Wildcard && strings.HasSuffix(d.name, "."+r.Host))
		addrOK := r.Prefix.IsValid() && d.addr.IsValid() && r.Prefix.Contains(d.addr)
		if !hostOK && !addrOK {
			continue
		}
		if port == 0 {
			return true
		}
		for _, p := range r.Ports {
			if p.From <= port && port <= p.To {
				return true
			}
		}
	}
	return false
}
