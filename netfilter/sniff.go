package netfilter

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// maxSniff bounds how many first bytes of a flow are read to find its name.
const maxSniff = 16 << 10

// SniffComplete reports whether first holds enough of a flow's start to find its name: a
// whole TLS record (the ClientHello), or HTTP headers up to the blank line; or maxSniff
// bytes.
func SniffComplete(first []byte) bool {
	if len(first) >= maxSniff {
		return true
	}
	if len(first) > 0 && first[0] == 0x16 { // TLS handshake record
		if len(first) < 5 {
			return false
		}
		return len(first) >= 5+int(first[3])<<8+int(first[4])
	}
	if looksLikeHTTP(first) {
		return bytes.Contains(first, []byte("\r\n\r\n"))
	}
	return len(first) > 0 // another protocol: nothing more to wait for
}

var httpMethods = []string{"GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "PATCH ", "OPTIONS ", "CONNECT ", "TRACE "}

func looksLikeHTTP(b []byte) bool {
	for _, m := range httpMethods {
		if bytes.HasPrefix(b, []byte(m)) || (len(b) < len(m) && bytes.HasPrefix([]byte(m), b)) {
			return true
		}
	}
	return false
}

// SniffName returns the host name a flow's first bytes name: the TLS ClientHello's SNI or
// the HTTP request's Host, lower-case and without a port; "" when there is none.
func SniffName(first []byte) string {
	switch {
	case len(first) > 0 && first[0] == 0x16:
		return sniffSNI(first)
	case looksLikeHTTP(first):
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(first)))
		if err != nil {
			return ""
		}
		host := req.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		return strings.ToLower(strings.TrimSuffix(host, "."))
	}
	return ""
}

var errSniffed = errors.New("sniffed")

// sniffSNI runs the standard library's TLS server on the recorded bytes just far enough to
// parse the ClientHello, and stops.
func sniffSNI(first []byte) string {
	var name string
	conn := &replayConn{r: bytes.NewReader(first)}
	srv := tls.Server(conn, &tls.Config{
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			name = h.ServerName
			return nil, errSniffed
		},
	})
	_ = srv.Handshake()
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

// replayConn is a net.Conn that reads recorded bytes and discards what is written.
type replayConn struct{ r io.Reader }

func (c *replayConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *replayConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *replayConn) Close() error                     { return nil }
func (c *replayConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *replayConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *replayConn) SetDeadline(time.Time) error      { return nil }
func (c *replayConn) SetReadDeadline(time.Time) error  { return nil }
func (c *replayConn) SetWriteDeadline(time.Time) error { return nil }
