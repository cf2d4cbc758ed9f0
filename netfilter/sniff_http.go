package netfilter

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ErrH2PriorKnowledge is the error for HTTP/2 spoken without TLS from the first byte (the
// "PRI * HTTP/2.0" preface): its :authority sits in HPACK-compressed frames, which are not
// read, so such a flow is denied.
var ErrH2PriorKnowledge = errors.New("HTTP/2 with prior knowledge (h2c): its :authority is not read, so it is denied; use HTTPS or HTTP/1.1")

// requestHead is what one HTTP/1 request head says.
type requestHead struct {
	host    string
	body    int64 // Content-Length; -1 for chunked
	upgrade bool  // an Upgrade header: the stream may change protocol after the response
}

// sniffHTTP reads the first request head of b.
func sniffHTTP(b []byte) (FirstFlight, error) {
	if bytes.HasPrefix(b, []byte("PRI ")) || bytes.HasPrefix([]byte("PRI * HTTP/2.0"), b) {
		return FirstFlight{}, ErrH2PriorKnowledge
	}
	// What cannot start a request line is refused at once, not after a wait: a
	// server-speaks-first client, or a line that is not "METHOD TARGET HTTP/1.x".
	for i, c := range b {
		if c == ' ' {
			break
		}
		if !isTokenChar(c) {
			return FirstFlight{}, fmt.Errorf("neither a TLS ClientHello nor an HTTP request (%q)", clip(string(b[:i+1])))
		}
	}
	if eol := bytes.IndexByte(b, '\n'); eol >= 0 && !bytes.HasSuffix(b[:eol], []byte(" HTTP/1.1\r")) && !bytes.HasSuffix(b[:eol], []byte(" HTTP/1.0\r")) {
		return FirstFlight{}, fmt.Errorf("a malformed HTTP request line %q", clip(string(b[:eol])))
	}
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		if len(b) >= MaxFirstFlight {
			return FirstFlight{}, fmt.Errorf("an HTTP request head over %d KiB", MaxFirstFlight>>10)
		}
		return FirstFlight{}, ErrIncomplete
	}
	if end+4 > MaxFirstFlight {
		return FirstFlight{}, fmt.Errorf("an HTTP request head over %d KiB", MaxFirstFlight>>10)
	}
	h, err := parseRequestHead(b[:end+4])
	if err != nil {
		return FirstFlight{}, err
	}
	return FirstFlight{Name: h.host, HTTP: true, Len: end + 4}, nil
}

func isTokenChar(c byte) bool {
	return c < 0x7f && c > 0x20 && !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, rune(c))
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// parseRequestHead judges one request head, ending in its blank line, strictly: what
// servers read differently (a leading blank line, a bare CR or LF, folded lines, space
// before a colon, two Hosts, a target naming another host than Host, two lengths, a
// Transfer-Encoding other than chunked) is refused; then net/http must read it too.
func parseRequestHead(head []byte) (requestHead, error) {
	var h requestHead
	lines := strings.Split(string(head[:len(head)-4]), "\r\n")
	for _, l := range lines {
		if strings.ContainsAny(l, "\r\n\x00") {
			return h, errors.New("an HTTP request head with a bare CR, LF or NUL")
		}
	}
	method, rest, ok1 := strings.Cut(lines[0], " ")
	target, version, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !isToken(method) || target == "" || strings.ContainsAny(target, " \t") {
		return h, fmt.Errorf("a malformed HTTP request line %q", clip(lines[0]))
	}
	if method == "PRI" {
		return h, ErrH2PriorKnowledge
	}
	if version != "HTTP/1.1" && version != "HTTP/1.0" {
		return h, fmt.Errorf("an HTTP request of version %q", clip(version))
	}
	if method == "CONNECT" {
		return h, errors.New("an HTTP CONNECT request (a tunnel to another host)")
	}
	var hosts, lengths, codings []string
	for _, l := range lines[1:] {
		if l == "" || l[0] == ' ' || l[0] == '\t' {
			return h, errors.New("an HTTP header line that is empty or folded")
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok || !isToken(name) {
			return h, fmt.Errorf("a malformed HTTP header line %q", clip(l))
		}
		value = strings.Trim(value, " \t")
		for i := 0; i < len(value); i++ {
			if c := value[i]; c < 0x20 && c != '\t' || c == 0x7f {
				return h, fmt.Errorf("an HTTP header %s with a control byte", clip(name))
			}
		}
		switch strings.ToLower(name) {
		case "host":
			hosts = append(hosts, value)
		case "content-length":
			lengths = append(lengths, value)
		case "transfer-encoding":
			codings = append(codings, value)
		case "upgrade":
			// After a 101 the stream is not read, so only a protocol that cannot name
			// another host may follow: WebSocket. h2c (HTTP/2 with its :authority) and
			// TLS (a ClientHello with another SNI) could.
			if h.upgrade || !strings.EqualFold(value, "websocket") {
				return h, fmt.Errorf("an HTTP upgrade to %q (only one to websocket is relayed)", clip(value))
			}
			h.upgrade = true
		}
	}
	switch {
	case len(hosts) == 0:
		return h, errors.New("an HTTP request without a Host")
	case len(hosts) > 1:
		return h, errors.New("an HTTP request with two Host headers")
	case len(lengths) > 1:
		return h, errors.New("an HTTP request with two Content-Length headers")
	case len(codings) > 1 || len(codings) == 1 && !strings.EqualFold(codings[0], "chunked"):
		return h, errors.New("an HTTP request with a Transfer-Encoding other than chunked")
	case len(codings) == 1 && len(lengths) == 1:
		return h, errors.New("an HTTP request with both Content-Length and Transfer-Encoding")
	}
	host, err := hostOf(hosts[0])
	if err != nil {
		return h, err
	}
	h.host = host
	switch {
	case target == "*":
		if method != "OPTIONS" {
			return h, errors.New("an HTTP request for * that is not OPTIONS")
		}
	case target[0] == '/':
	default: // absolute form: servers take the host from the target, not from Host
		u, err := url.Parse(target)
		if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return h, fmt.Errorf("an HTTP request target %q that is neither a path nor an http URL", clip(target))
		}
		th, err := hostOf(u.Host)
		if err != nil {
			return h, err
		}
		if th != host {
			return h, fmt.Errorf("an HTTP request for %s with the Host %s", th, host)
		}
	}
	switch {
	case len(codings) == 1:
		h.body = -1
	case len(lengths) == 1:
		n, err := strconv.ParseInt(lengths[0], 10, 64)
		if err != nil || n < 0 || lengths[0][0] == '+' {
			return h, fmt.Errorf("an HTTP Content-Length %q", clip(lengths[0]))
		}
		h.body = n
	}
	if _, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head))); err != nil {
		return h, fmt.Errorf("an HTTP request head net/http refuses: %w", err)
	}
	return h, nil
}

// hostOf returns the host of a Host value or URL authority, lower-case and without its
// port.
func hostOf(v string) (string, error) {
	host := v
	if strings.HasPrefix(v, "[") || strings.Contains(v, ":") {
		h, port, err := net.SplitHostPort(v)
		if err != nil {
			return "", fmt.Errorf("an HTTP Host %q: %w", clip(v), err)
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return "", fmt.Errorf("an HTTP Host %q with a bad port", clip(v))
		}
		host = h
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.String(), nil // an address names no host; it never matches a name
	}
	h, err := validHost(host)
	if err != nil {
		return "", fmt.Errorf("an HTTP Host that is not a host name: %w", err)
	}
	return h, nil
}

// clip shortens an agent-chosen string quoted into an error.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
