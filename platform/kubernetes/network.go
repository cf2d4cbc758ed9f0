package kubernetes

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/metadata"
)

// The cluster's DNS: kube-dns (CoreDNS keeps the label) in kube-system.
var (
	dnsNamespace = map[string]string{"kubernetes.io/metadata.name": "kube-system"}
	dnsPods      = map[string]string{"k8s-app": "kube-dns"}
)

// netRule is one allow rule of the policy with its protocol.
type netRule struct {
	profiles.NetRule
	proto string // TCP or UDP
}

func (c *compiler) netRules() []netRule {
	var out []netRule
	for _, r := range c.pol.Network.Allow {
		out = append(out, netRule{r, "TCP"})
	}
	for _, r := range c.pol.Network.UDP {
		out = append(out, netRule{r, "UDP"})
	}
	return out
}

// metadataExcept are the always-denied ranges inside p, which an allow rule of p must except.
func metadataExcept(p netip.Prefix) []string {
	var out []string
	for _, d := range metadata.Prefixes() {
		if d.Addr().Is4() == p.Addr().Is4() && p.Bits() < d.Bits() && p.Contains(d.Addr()) {
			out = append(out, d.String())
		}
	}
	return out
}

// networkPolicy writes the NetworkPolicy: no egress but DNS to the cluster's DNS and the
// policy's address rules. Names are beyond it.
func (c *compiler) networkPolicy() {
	spec := networkPolicySpec{
		PodSelector: labelSelector{MatchLabels: map[string]string{label: c.name}},
		PolicyTypes: []string{"Egress"},
		Egress:      []netpolEgressRule{},
	}
	var names []string
	for _, r := range c.netRules() {
		if r.Host != "" {
			names = append(names, display.Escape(r.String()))
			continue
		}
		var ports []netpolPort
		for _, p := range r.Ports {
			np := netpolPort{Protocol: r.proto, Port: int32(p.From)}
			if p.To != p.From {
				np.EndPort = int32(p.To)
			}
			ports = append(ports, np)
		}
		spec.Egress = append(spec.Egress, netpolEgressRule{
			To:    []netpolPeer{{IPBlock: &ipBlock{CIDR: r.Prefix.Masked().String(), Except: metadataExcept(r.Prefix)}}},
			Ports: ports,
		})
	}
	comments := []string{"Egress: none but what follows."}
	if c.pol.Network.None() {
		comments = append(comments, "The profile gives the agent no network: not even DNS.")
	} else {
		spec.Egress = append([]netpolEgressRule{{
			To:    []netpolPeer{{NamespaceSelector: &labelSelector{MatchLabels: dnsNamespace}, PodSelector: &labelSelector{MatchLabels: dnsPods}}},
			Ports: []netpolPort{{Protocol: "UDP", Port: 53}, {Protocol: "TCP", Port: 53}},
		}}, spec.Egress...)
		comments = append(comments, "DNS to the cluster's DNS (kube-dns in kube-system), any name: a NetworkPolicy cannot look into DNS.")
	}
	c.doc(networkPolicy{
		typeMeta: typeMeta{"networking.k8s.io/v1", "NetworkPolicy"},
		Metadata: c.meta(c.name+"-egress", true),
		Spec:     spec,
	}, comments...)
	if len(names) > 0 {
		c.note(fmt.Sprintf("a NetworkPolicy cannot name hosts: the %d host rules of the profile (%s) are allowed only by the CiliumNetworkPolicy; without Cilium, the NetworkPolicy denies them", len(names), strings.Join(names, ", ")))
	}
}

// ciliumPattern is a Cilium matchPattern with agentrun's meaning of *.DOMAIN: any name below
// DOMAIN, at any depth, not DOMAIN itself. Cilium's * stays within one label; its **. prefix
// (Cilium 1.19 and later) spans labels, and earlier versions read it as *. (one label:
// narrower, never wider).
func ciliumPattern(domain string) string { return "**." + domain }

func fqdn(r profiles.NetRule) fqdnSelector {
	if r.Wildcard {
		return fqdnSelector{MatchPattern: ciliumPattern(r.Host)}
	}
	return fqdnSelector{MatchName: r.Host}
}

func ciliumPorts(r netRule) []ciliumPort {
	var out []ciliumPort
	for _, p := range r.Ports {
		cp := ciliumPort{Port: strconv.Itoa(int(p.From)), Protocol: r.proto}
		if p.To != p.From {
			cp.EndPort = int32(p.To)
		}
		out = append(out, cp)
	}
	return out
}

// portsKey identifies a rule's ports and protocol, to group names that share them.
func portsKey(r netRule) string {
	ports := make([]string, len(r.Ports))
	for i, p := range r.Ports {
		ports[i] = p.String()
	}
	return r.proto + " " + strings.Join(ports, ",")
}

// ciliumPolicy writes the CiliumNetworkPolicy: DNS queries only for the allowed names
// (through Cilium's DNS proxy, which also learns the addresses toFQDNs allows), the names
// and addresses on their ports, and cloud metadata denied whatever allows it.
func (c *compiler) ciliumPolicy() {
	spec := ciliumPolicySpec{
		Description:       "agentrun profile " + c.pol.Name + ": egress only to what the profile allows",
		EndpointSelector:  labelSelector{MatchLabels: map[string]string{label: c.name}},
		EnableDefaultDeny: ciliumDefaultDeny{Egress: true},
	}
	var dns []fqdnSelector
	seen := map[fqdnSelector]bool{}
	groups := map[string][]fqdnSelector{}
	groupPorts := map[string][]ciliumPort{}
	for _, r := range c.netRules() {
		if r.Host == "" {
			spec.Egress = append(spec.Egress, ciliumEgressRule{
				ToCIDRSet: []cidrRule{{CIDR: r.Prefix.Masked().String(), Except: metadataExcept(r.Prefix)}},
				ToPorts:   []ciliumPortRule{{Ports: ciliumPorts(r)}},
			})
			continue
		}
		sel := fqdn(r.NetRule)
		if !seen[sel] {
			seen[sel] = true
			dns = append(dns, sel)
		}
		k := portsKey(r)
		groups[k] = append(groups[k], sel)
		groupPorts[k] = ciliumPorts(r)
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		spec.Egress = append(spec.Egress, ciliumEgressRule{ToFQDNs: groups[k], ToPorts: []ciliumPortRule{{Ports: groupPorts[k]}}})
	}
	if len(dns) > 0 {
		spec.Egress = append([]ciliumEgressRule{{
			ToEndpoints: []labelSelector{{MatchLabels: map[string]string{"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns"}}},
			ToPorts:     []ciliumPortRule{{Ports: []ciliumPort{{Port: "53", Protocol: "ANY"}}, Rules: &ciliumL7Rules{DNS: dns}}},
		}}, spec.Egress...)
	}
	var deny []cidrRule
	for _, p := range metadata.Prefixes() {
		deny = append(deny, cidrRule{CIDR: p.String()})
	}
	spec.EgressDeny = []ciliumEgressRule{{ToCIDRSet: deny}}
	c.doc(ciliumPolicy{
		typeMeta: typeMeta{"cilium.io/v2", "CiliumNetworkPolicy"},
		Metadata: c.meta(c.name+"-egress", true),
		Spec:     spec,
	},
		"For clusters with Cilium: the profile's names through Cilium's DNS proxy, which answers only",
		"queries for them (no DNS exfiltration) and lets toFQDNs allow the addresses it handed out.",
		"agentrun's *.example.com (any name below example.com) is matchPattern **.example.com: Cilium",
		"1.19 and later read it the same; earlier versions as one label only (narrower, never wider).",
		"Cloud metadata is denied by an egressDeny rule, which no allow rule can override.",
		"Apply it instead of the NetworkPolicy: Cilium enforces both, and the NetworkPolicy's DNS rule",
		"would let any name be queried.",
	)
}
