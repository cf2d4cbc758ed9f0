package netfilter

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// The bounds of a first flight: a flow to a name on port 80 or 443 must name its host within
// this many bytes and this long after it was accepted, or it is denied.
const (
	MaxFirstFlight     = 64 << 10
	FirstFlightTimeout = 10 * time.Second
)

// NeedsName reports whether a TCP flow allowed by name on port must name its host in its
// first flight (TLS SNI or HTTP Host): ports 80 and 443 always do; other ports (SSH on 22,
// a database) are raw TCP, allowed by address.
func NeedsName(port uint16) bool { return port == 80 || port == 443 }

// ErrIncomplete says a first flight needs more bytes before it can be judged.
var ErrIncomplete = errors.New("the first flight is not complete yet")

// FirstFlight is what a flow's first bytes say.
type FirstFlight struct {
	// Name is the one host named: the ClientHello's server_name (the outer, public name
	// under ECH) or the HTTP request's Host, lower-case, without a port or trailing dot.
	Name string
	// HTTP marks a cleartext HTTP/1 request: every later request on the connection must be
	// checked too (HTTPStream).
	HTTP bool
	// Len is how many bytes the first flight took: the ClientHello's records, or the
	// request head.
	Len int
}

// SniffFirstFlight reads the host a flow's first bytes name: a complete, well-formed TLS
// ClientHello (reassembled from as many handshake records as it takes) or HTTP/1 request
// head. It returns ErrIncomplete while more bytes are needed; any other error says why the
// bytes name no single host — not TLS or HTTP, malformed, no name, two names, HTTP/2 with
// prior knowledge, bigger than MaxFirstFlight — and the flow must then be denied.
func SniffFirstFlight(b []byte) (FirstFlight, error) {
	if len(b) == 0 {
		return FirstFlight{}, ErrIncomplete
	}
	if b[0] == recordHandshake {
		return sniffTLS(b)
	}
	if isTokenChar(b[0]) {
		return sniffHTTP(b)
	}
	return FirstFlight{}, fmt.Errorf("neither a TLS ClientHello nor an HTTP request (first byte %#02x)", b[0])
}

// validHost checks a server name or Host and returns it lower-case without one trailing
// dot: ASCII letters, digits, '-', '_' in dot-separated labels of 1 to 63 bytes, 253 at most.
func validHost(h string) (string, error) {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return "", fmt.Errorf("a host name of %d bytes", len(h))
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return "", fmt.Errorf("a host name with an empty or over-long label: %q", h)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("a host name with the byte %q: %q", c, h)
			}
		}
	}
	return strings.ToLower(h), nil
}
