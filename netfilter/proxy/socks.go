package proxy

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
)

// SOCKS5 (RFC 1928): only CONNECT, without authentication (the port listens on loopback
// for the sandbox alone).
const (
	socksVersion   = 5
	socksNoAuth    = 0
	socksNoMethod  = 0xff
	socksConnect   = 1
	atypIPv4       = 1
	atypDomain     = 3
	atypIPv6       = 4
	repSucceeded   = 0
	repNotAllowed  = 2 // connection not allowed by ruleset
	repHostUnreach = 4
	repCmdNotSupp  = 7
	repAtypNotSupp = 8
)

// serveSOCKS serves one SOCKS5 connection: the greeting, one CONNECT request, the tunnel.
// BIND and UDP ASSOCIATE are refused: the sandbox's egress is TCP to named hosts.
func (p *Proxy) serveSOCKS(agent *prefixConn) {
	var hdr [2]byte
	if _, err := io.ReadFull(agent, hdr[:]); err != nil {
		return
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(agent, methods); err != nil {
		return
	}
	if !contains(methods, socksNoAuth) {
		_, _ = agent.Write([]byte{socksVersion, socksNoMethod})
		return
	}
	if _, err := agent.Write([]byte{socksVersion, socksNoAuth}); err != nil {
		return
	}
	var req [4]byte // VER CMD RSV ATYP
	if _, err := io.ReadFull(agent, req[:]); err != nil {
		return
	}
	if req[0] != socksVersion {
		return
	}
	host, err := readSOCKSAddr(agent, req[3])
	if err != nil {
		socksReply(agent, repAtypNotSupp)
		return
	}
	var pb [2]byte
	if _, err := io.ReadFull(agent, pb[:]); err != nil {
		return
	}
	if req[1] != socksConnect {
		socksReply(agent, repCmdNotSupp)
		return
	}
	t, err := parseTarget(host, binary.BigEndian.Uint16(pb[:]))
	if err != nil {
		socksReply(agent, repNotAllowed)
		return
	}
	r, err := p.plan(t, "")
	if err != nil {
		socksReply(agent, repNotAllowed)
		return
	}
	if r.d.NeedsName {
		if socksReply(agent, repSucceeded) {
			p.relayNamed(agent, r)
		}
		return
	}
	up, err := p.dial(r)
	if err != nil {
		socksReply(agent, repHostUnreach)
		return
	}
	if !socksReply(agent, repSucceeded) {
		up.Close()
		return
	}
	p.relay(agent, up, r, nil, nil)
}

// readSOCKSAddr reads a request's DST.ADDR: a domain name, or an address as text.
func readSOCKSAddr(r io.Reader, atyp byte) (string, error) {
	switch atyp {
	case atypIPv4:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", err
		}
		return netip.AddrFrom4(b).String(), nil
	case atypIPv6:
		var b [16]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", err
		}
		return netip.AddrFrom16(b).String(), nil
	case atypDomain:
		var n [1]byte
		if _, err := io.ReadFull(r, n[:]); err != nil {
			return "", err
		}
		name := make([]byte, n[0])
		if _, err := io.ReadFull(r, name); err != nil {
			return "", err
		}
		return string(name), nil
	}
	return "", errors.New("an unknown SOCKS address type")
}

// socksReply answers a request; the bound address is not told (zero), as clients ignore it
// for CONNECT.
func socksReply(w io.Writer, rep byte) bool {
	_, err := w.Write([]byte{socksVersion, rep, 0, atypIPv4, 0, 0, 0, 0, 0, 0})
	return err == nil
}

func contains(b []byte, x byte) bool {
	for _, v := range b {
		if v == x {
			return true
		}
	}
	return false
}
