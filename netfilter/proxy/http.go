package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"

	"github.com/agentrun/agentrun/netfilter"
)

// readHead reads until the end of an HTTP request head, at most maxHead bytes. It returns
// the head and what came after it (the start of a tunnel or a body).
func readHead(c net.Conn) (head, rest []byte, err error) {
	buf := make([]byte, 0, 4096)
	chunk := make([]byte, 4096)
	for {
		if i := bytes.Index(buf, []byte("\r\n\r\n")); i >= 0 {
			return buf[:i+4], buf[i+4:], nil
		}
		if len(buf) >= maxHead {
			return nil, nil, fmt.Errorf("a proxy request head over %d KiB", maxHead>>10)
		}
		n, err := c.Read(chunk[:min(len(chunk), maxHead-len(buf))])
		buf = append(buf, chunk[:n]...)
		if err != nil && n == 0 {
			return nil, nil, fmt.Errorf("reading the proxy request: %w", err)
		}
	}
}

// serveHTTP serves one HTTP proxy connection: a CONNECT tunnel, or absolute-form requests
// to one origin (http://host/…), every one of them naming that host.
func (p *Proxy) serveHTTP(agent *prefixConn) {
	head, rest, err := readHead(agent)
	if err != nil {
		return
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
	if err != nil {
		refuse(agent, http.StatusBadRequest, "agentrun: a malformed proxy request: "+err.Error())
		return
	}
	if req.Method == http.MethodConnect {
		p.serveConnect(agent, req, rest)
		return
	}
	p.serveForward(agent, req, append(head, rest...))
}

// serveConnect opens a CONNECT tunnel to an allowed host and port.
func (p *Proxy) serveConnect(agent *prefixConn, req *http.Request, rest []byte) {
	host, port, err := splitHostPort(req.Host)
	if err != nil {
		refuse(agent, http.StatusBadRequest, "agentrun: CONNECT needs host:port: "+err.Error())
		return
	}
	t, err := parseTarget(host, port)
	if err != nil {
		refuse(agent, http.StatusBadRequest, "agentrun: CONNECT to "+strconv.Quote(host)+": "+err.Error())
		return
	}
	r, err := p.plan(t, "")
	if err != nil {
		refuse(agent, http.StatusForbidden, "agentrun: "+reasonOf(err))
		return
	}
	agent.pre = append(agent.pre, rest...)
	established := func() bool {
		_, err := agent.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		return err == nil
	}
	if r.d.NeedsName {
		// The client speaks first once the tunnel is up: its ClientHello or request names
		// the host, and only then is anything dialled.
		if established() {
			p.relayNamed(agent, r)
		}
		return
	}
	up, err := p.dial(r)
	if err != nil {
		refuse(agent, http.StatusBadGateway, "agentrun: "+reasonOf(err))
		return
	}
	if !established() {
		up.Close()
		return
	}
	p.relay(agent, up, r, nil, nil)
}

// serveForward relays absolute-form requests (GET http://host/… HTTP/1.1) to their origin,
// as they are: origin servers take absolute-form (RFC 9112, section 3.2.2). The first request's
// target and Host must name the same host (SniffFirstFlight's checks), and every later
// request on the connection that host too.
func (p *Proxy) serveForward(agent *prefixConn, req *http.Request, first []byte) {
	if req.URL.Scheme != "http" || req.URL.Host == "" {
		refuse(agent, http.StatusBadRequest, "agentrun: this is the sandbox's egress proxy: send CONNECT host:port, or an absolute http:// URL")
		return
	}
	ff, err := netfilter.SniffFirstFlight(first)
	if err != nil {
		refuse(agent, http.StatusForbidden, "agentrun: "+reasonOf(err))
		return
	}
	port := uint16(80)
	if s := req.URL.Port(); s != "" {
		n, err := strconv.ParseUint(s, 10, 16)
		if err != nil || n == 0 {
			refuse(agent, http.StatusBadRequest, "agentrun: a URL with port "+strconv.Quote(s))
			return
		}
		port = uint16(n)
	}
	t, err := parseTarget(req.URL.Hostname(), port)
	if err != nil {
		refuse(agent, http.StatusBadRequest, "agentrun: "+reasonOf(err))
		return
	}
	r, err := p.plan(t, ff.Name)
	if err == nil && r.d.NeedsName {
		// Not reached: the Host was read, so the decision is made. Fail closed all the same.
		err = errors.New("the request names no host")
	}
	if err != nil {
		refuse(agent, http.StatusForbidden, "agentrun: "+reasonOf(err))
		return
	}
	check := netfilter.NewHTTPStream(p.judgeRequest(r))
	up, err := p.dial(r)
	if err != nil {
		refuse(agent, http.StatusBadGateway, "agentrun: "+reasonOf(err))
		return
	}
	p.relay(agent, up, r, first, check)
}

// refuse answers a proxy request with an error status and closes the connection.
func refuse(c net.Conn, status int, msg string) {
	msg += "\n"
	_, _ = fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(msg), msg)
}

// splitHostPort splits a CONNECT authority; the port is required.
func splitHostPort(hp string) (string, uint16, error) {
	host, ps, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.ParseUint(ps, 10, 16)
	if err != nil || n == 0 {
		return "", 0, fmt.Errorf("port %q", ps)
	}
	return host, uint16(n), nil
}
