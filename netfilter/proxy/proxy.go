// Package proxy is the sandbox's egress where the kernel gives agentrun no network stack of
// its own (macOS, Windows): an HTTP proxy (CONNECT and absolute-form requests) and a SOCKS5
// proxy on one loopback port, judging every connection with the same netfilter policy,
// resolver and first-flight checks as the Linux network stack, and recording the same events.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/netfilter"
	"github.com/agentrun/agentrun/netfilter/resolver"
)

// Defaults of Options.
const (
	DefaultMaxConns         = 256
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultDialTimeout      = 10 * time.Second
	// maxHead bounds a proxy request's head (CONNECT) or a plain request's head read before
	// it is judged: netfilter.MaxFirstFlight, as on the Linux stack.
	maxHead = netfilter.MaxFirstFlight
)

// Options tune a proxy; the zero value is the defaults.
type Options struct {
	// Upstream is the DNS server names are looked up with, host:port; the host's
	// (resolver.HostUpstream) when empty.
	Upstream string
	// Listener, when set, is served instead of a new listener on 127.0.0.1's ephemeral port.
	Listener net.Listener
	// MaxConns bounds the connections served at once; past it a new one is closed at once.
	MaxConns int
	// HandshakeTimeout bounds the proxy handshake (request head, SOCKS negotiation) and,
	// as FirstFlightTimeout does on Linux, the first flight of a flow that must name its host.
	HandshakeTimeout time.Duration
	// Dial connects to an allowed destination; a net.Dialer with DefaultDialTimeout when nil.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// Proxy is one sandbox's egress proxy.
type Proxy struct {
	policy   *netfilter.Policy
	bindings *netfilter.Bindings
	resolver *resolver.Server
	sink     events.Sink
	opts     Options
	l        net.Listener
	ctx      context.Context
	cancel   context.CancelFunc
	slots    chan struct{}
	wg       sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// Start serves the proxy until ctx ends or Close. sink receives every DNS and flow event
// (stamped with the run by the caller, events.Stamp); it may be nil.
func Start(ctx context.Context, policy *netfilter.Policy, sink events.Sink, opts Options) (*Proxy, error) {
	if opts.Upstream == "" {
		up, err := resolver.HostUpstream()
		if err != nil {
			return nil, err
		}
		opts.Upstream = up
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if opts.Dial == nil {
		opts.Dial = (&net.Dialer{Timeout: DefaultDialTimeout}).DialContext
	}
	l := opts.Listener
	if l == nil {
		var err error
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("listening for the sandbox's egress proxy on 127.0.0.1: %w", err)
		}
	}
	bindings := netfilter.NewBindings()
	ctx, cancel := context.WithCancel(ctx)
	p := &Proxy{
		policy: policy, bindings: bindings, sink: sink, opts: opts, l: l, ctx: ctx, cancel: cancel,
		resolver: &resolver.Server{Policy: policy, Bindings: bindings, Upstream: opts.Upstream, Events: sink},
		slots:    make(chan struct{}, opts.MaxConns),
		conns:    map[net.Conn]struct{}{},
	}
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		<-ctx.Done()
		_ = l.Close()
		p.mu.Lock()
		for c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
	}()
	go func() {
		defer p.wg.Done()
		p.serve()
	}()
	return p, nil
}

// Addr is the proxy's address, 127.0.0.1:port.
func (p *Proxy) Addr() net.Addr { return p.l.Addr() }

// Close stops the proxy and ends every connection through it.
func (p *Proxy) Close() {
	p.cancel()
	p.wg.Wait()
}

// Env is the environment the agent gets so that its programs use the proxy: the HTTP and
// SOCKS variables in both spellings (curl reads only the lower-case http_proxy) and NO_PROXY
// cleared, so no destination bypasses it. socks5h makes clients pass names, not addresses
// they looked up themselves.
func (p *Proxy) Env() []string { return Env(p.Addr().String()) }

// Env is Proxy.Env for a proxy at addr.
func Env(addr string) []string {
	h, s := "http://"+addr, "socks5h://"+addr
	return []string{
		"HTTP_PROXY=" + h, "HTTPS_PROXY=" + h, "ALL_PROXY=" + s, "NO_PROXY=",
		"http_proxy=" + h, "https_proxy=" + h, "all_proxy=" + s, "no_proxy=",
	}
}

func (p *Proxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		select {
		case p.slots <- struct{}{}:
		default:
			_ = c.Close() // over MaxConns: the client sees a reset, and may retry
			continue
		}
		if !p.track(c, true) {
			<-p.slots
			_ = c.Close()
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer func() { <-p.slots }()
			defer p.track(c, false)
			defer c.Close()
			p.handle(c)
		}()
	}
}

// track adds or removes a connection Close must end; it refuses to add one after Close.
func (p *Proxy) track(c net.Conn, add bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !add {
		delete(p.conns, c)
		return true
	}
	if p.ctx.Err() != nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

// handle reads a connection's first bytes and serves it as SOCKS5 (first byte 5) or HTTP.
func (p *Proxy) handle(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	_ = c.SetDeadline(time.Now().Add(p.opts.HandshakeTimeout))
	var first [1]byte
	if _, err := c.Read(first[:]); err != nil {
		return
	}
	agent := &prefixConn{TCPConn: tc, pre: first[:]}
	switch first[0] {
	case socksVersion:
		p.serveSOCKS(agent)
	case 4:
		return // SOCKS4 names no host and takes no DNS name; it is not spoken
	default:
		p.serveHTTP(agent)
	}
}

// prefixConn is the agent's connection with bytes already read from it put back in front.
type prefixConn struct {
	*net.TCPConn
	pre []byte
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(b, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.TCPConn.Read(b)
}
