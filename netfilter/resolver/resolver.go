// Package resolver is the sandbox's DNS server: it answers only the names the policy allows,
// looking them up with the host's resolver, and never sends any other name upstream, so DNS
// cannot carry data out. Every query is an event, and every answer binds its addresses to the
// name for the egress decisions.
package resolver

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/netfilter"
	"github.com/agentrun/agentrun/profiles/metadata"
)

// Server answers the sandbox's DNS queries. Set the fields, then call Serve.
type Server struct {
	Policy   *netfilter.Policy
	Bindings *netfilter.Bindings
	Upstream string        // the host's resolver, host:port
	Events   events.Sink   // stamped with the run by the caller (events.Stamp)
	Timeout  time.Duration // per upstream query; zero means 3 s

	cache     sync.Map // cacheKey → cacheEntry: upstream answers, kept for their TTL
	cacheSize atomic.Int64
}

// maxCache bounds the cache: an agent looking up endless subdomains of an allowed wildcard
// must not grow agentrun's memory without end.
const maxCache = 10000

type cacheKey struct {
	name  string
	qtype uint16
}

type cacheEntry struct {
	msg     *dns.Msg
	expires time.Time
}

// HostUpstream returns the first nameserver of the host's /etc/resolv.conf.
func HostUpstream() (string, error) {
	cfg, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil {
		return "", fmt.Errorf("reading the host's resolver: %w", err)
	}
	if len(cfg.Servers) == 0 {
		return "", fmt.Errorf("reading the host's resolver: /etc/resolv.conf names no nameserver")
	}
	return net.JoinHostPort(cfg.Servers[0], cfg.Port), nil
}

// Serve answers on a packet connection (UDP) and a listener (TCP) until ctx ends. Either may
// be nil.
func (s *Server) Serve(ctx context.Context, pc net.PacketConn, l net.Listener) error {
	var servers []*dns.Server
	errs := make(chan error, 2)
	if pc != nil {
		servers = append(servers, &dns.Server{PacketConn: pc, Handler: s})
	}
	if l != nil {
		servers = append(servers, &dns.Server{Listener: l, Handler: s})
	}
	for _, srv := range servers {
		go func() { errs <- srv.ActivateAndServe() }()
	}
	select {
	case <-ctx.Done():
		for _, srv := range servers {
			_ = srv.Shutdown()
		}
		return nil
	case err := <-errs:
		for _, srv := range servers {
			_ = srv.Shutdown()
		}
		return err
	}
}

// ServeDNS answers one query.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	_ = w.WriteMsg(s.Answer(w.RemoteAddr().Network(), req))
}

func (s *Server) event(q dns.Question, verdict events.Verdict, rule, reason string) {
	if s.Events == nil {
		return
	}
	s.Events.Record(events.Event{
		Kind: events.KindDNS,
		Name: strings.TrimSuffix(q.Name, "."), Protocol: dns.TypeToString[q.Qtype],
		Verdict: verdict, Rule: rule, Reason: reason,
	})
}

// Answer builds the response to req, which arrived over network ("udp" or "tcp"; the
// upstream query uses the same).
func (s *Server) Answer(network string, req *dns.Msg) *dns.Msg {
	resp := new(dns.Msg)
	if req.Opcode != dns.OpcodeQuery || len(req.Question) != 1 {
		resp.SetRcode(req, dns.RcodeFormatError)
		return resp
	}
	q := req.Question[0]
	d := s.Policy.AllowName(q.Name)
	if !d.Allow {
		s.event(q, events.Denied, "", d.Reason)
		resp.SetRcode(req, dns.RcodeNameError)
		return resp
	}
	verdict := events.Allowed
	if d.WouldDeny {
		verdict = events.WouldDeny
	}
	if q.Qtype != dns.TypeA && q.Qtype != dns.TypeAAAA && d.WouldDeny {
		// Audit mode: what the user could look up, passed through as it is.
		up, err := s.cachedExchange(network, q)
		if err != nil {
			s.event(q, verdict, d.Rule, d.Reason+"; upstream resolver: "+err.Error())
			resp.SetRcode(req, dns.RcodeServerFailure)
			return resp
		}
		s.event(q, verdict, d.Rule, d.Reason)
		resp.SetReply(req)
		resp.Rcode, resp.Answer = up.Rcode, up.Copy().Answer
		return resp
	}
	if q.Qtype != dns.TypeA && q.Qtype != dns.TypeAAAA {
		// Only addresses are looked up upstream; other types of allowed names get an empty
		// answer, which clients take as "no such record".
		s.event(q, events.Denied, d.Rule, "only A and AAAA records are looked up")
		resp.SetReply(req)
		return resp
	}
	up, err := s.cachedExchange(network, q)
	if err != nil {
		s.event(q, events.Denied, d.Rule, "upstream resolver: "+err.Error())
		resp.SetRcode(req, dns.RcodeServerFailure)
		return resp
	}
	resp.SetReply(req)
	resp.Rcode = up.Rcode
	var addrs []netip.Addr
	var ttl uint32 = 1<<32 - 1
	for _, rr := range up.Answer {
		var a netip.Addr
		switch r := rr.(type) {
		case *dns.A:
			a, _ = netip.AddrFromSlice(r.A.To4())
		case *dns.AAAA:
			a, _ = netip.AddrFromSlice(r.AAAA.To16())
		case *dns.CNAME:
			resp.Answer = append(resp.Answer, dns.Copy(rr))
			continue
		default:
			continue
		}
		if metadata.DeniedAddr(a) {
			// Rebinding an allowed name to the metadata service: the answer is dropped.
			s.event(q, events.Denied, d.Rule, fmt.Sprintf("the answer %s is a cloud-metadata address", a))
			continue
		}
		addrs = append(addrs, a)
		ttl = min(ttl, rr.Header().Ttl)
		resp.Answer = append(resp.Answer, dns.Copy(rr)) // a copy: packing writes to it, and the cache shares it
	}
	if len(addrs) > 0 {
		s.Bindings.Add(q.Name, addrs, time.Duration(ttl)*time.Second)
	}
	s.event(q, verdict, d.Rule, d.Reason)
	return resp
}

// cachedExchange answers from the cache while the upstream answer's TTL lasts, and asks
// upstream otherwise.
func (s *Server) cachedExchange(network string, q dns.Question) (*dns.Msg, error) {
	key := cacheKey{strings.ToLower(q.Name), q.Qtype}
	if v, ok := s.cache.Load(key); ok {
		if e := v.(cacheEntry); time.Now().Before(e.expires) {
			return e.msg, nil
		}
		s.cache.Delete(key)
		s.cacheSize.Add(-1)
	}
	m, err := s.exchange(network, q)
	if err != nil || m.Rcode != dns.RcodeSuccess {
		return m, err
	}
	ttl := uint32(300)
	for _, rr := range m.Answer {
		ttl = min(ttl, rr.Header().Ttl)
	}
	if ttl > 0 && s.cacheSize.Load() < maxCache {
		if _, loaded := s.cache.Swap(key, cacheEntry{msg: m, expires: time.Now().Add(time.Duration(ttl) * time.Second)}); !loaded {
			s.cacheSize.Add(1)
		}
	}
	return m, nil
}

// exchange asks the upstream resolver, over TCP when the UDP answer was truncated.
func (s *Server) exchange(network string, q dns.Question) (*dns.Msg, error) {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 3 * time.Second
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(q.Name), q.Qtype)
	m.RecursionDesired = true
	if network != "tcp" {
		network = "udp"
	}
	c := &dns.Client{Net: network, Timeout: timeout}
	r, _, err := c.Exchange(m, s.Upstream)
	if err == nil && r.Truncated && network == "udp" {
		c.Net = "tcp"
		r, _, err = c.Exchange(m, s.Upstream)
	}
	return r, err
}
