package netfilter

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrAwaitUpgrade is returned by HTTPStream.Feed after an upgrade request (WebSocket): the
// request went out, and what the client sends next is held until Upgraded is told the
// server's answer.
var ErrAwaitUpgrade = errors.New("waiting for the server's answer to an upgrade")

// maxChunkLine bounds a chunk-size line (with its extensions) and a trailer line.
const maxChunkLine = 4 << 10

type streamState int

const (
	inHead streamState = iota
	inBody
	inChunkSize
	inChunkData
	inChunkEnd // the CRLF after a chunk's data
	inTrailer
	awaitUpgrade
	opaque // after a 101: another protocol, not read
)

// HTTPStream follows the client's side of a cleartext HTTP/1 connection — pipelined and
// keep-alive requests, Content-Length and chunked bodies — and lets each request through
// only once its head was read whole and judge accepted its Host. After an upgrade request
// the stream is held until the server answers: a 101 makes the rest opaque (WebSocket
// frames), anything else ends the connection. It is not safe for concurrent use.
type HTTPStream struct {
	judge    func(host string) error
	state    streamState
	held     []byte // bytes not yet judged: a partial head or line
	left     int64  // bytes left in a body or chunk
	requests int
}

// NewHTTPStream returns a stream that asks judge about every request's Host; an error from
// judge ends the connection.
func NewHTTPStream(judge func(host string) error) *HTTPStream {
	return &HTTPStream{judge: judge}
}

// Feed takes the next bytes the client sent and returns those that may be forwarded now
// (valid until the next call). An error ends the connection, after the returned bytes were
// forwarded: a request named a host judge refused, or the stream is not HTTP/1 as it must
// be; ErrAwaitUpgrade asks for Upgraded.
func (s *HTTPStream) Feed(p []byte) ([]byte, error) {
	var out []byte
	if s.state == opaque {
		return p, nil
	}
	if s.state == awaitUpgrade {
		if len(s.held)+len(p) > MaxFirstFlight {
			return nil, errors.New("the client sent too much before the server answered its upgrade")
		}
		s.held = append(s.held, p...)
		return nil, ErrAwaitUpgrade
	}
	for len(p) > 0 {
		switch s.state {
		case inBody, inChunkData:
			n := int(min(s.left, int64(len(p))))
			out = append(out, p[:n]...)
			p, s.left = p[n:], s.left-int64(n)
			if s.left == 0 {
				if s.state == inBody {
					s.state = inHead
				} else {
					s.state = inChunkEnd
				}
			}
		case inHead:
			from := max(len(s.held)-3, 0) // what was searched before holds no blank line
			s.held = append(s.held, p...)
			p = nil
			end := bytes.Index(s.held[from:], []byte("\r\n\r\n"))
			if end >= 0 {
				end += from
			}
			if end < 0 {
				if len(s.held) >= MaxFirstFlight {
					return out, fmt.Errorf("request %d: an HTTP request head over %d KiB", s.requests+1, MaxFirstFlight>>10)
				}
				return out, nil
			}
			s.requests++
			head, rest := s.held[:end+4], s.held[end+4:]
			h, err := parseRequestHead(head)
			if err != nil {
				return out, fmt.Errorf("request %d: %w", s.requests, err)
			}
			if err := s.judge(h.host); err != nil {
				return out, fmt.Errorf("request %d: %w", s.requests, err)
			}
			switch {
			case h.upgrade && h.body != 0:
				return out, fmt.Errorf("request %d: an HTTP upgrade with a body", s.requests)
			case h.upgrade && s.requests > 1:
				return out, fmt.Errorf("request %d: an HTTP upgrade after other requests on the connection (open a new one for it)", s.requests)
			}
			out = append(out, head...)
			s.held, p = nil, rest
			switch {
			case h.upgrade:
				s.state, s.held = awaitUpgrade, append([]byte(nil), rest...)
				return out, ErrAwaitUpgrade
			case h.body < 0:
				s.state = inChunkSize
			case h.body > 0:
				s.state, s.left = inBody, h.body
			}
		case inChunkSize, inChunkEnd, inTrailer:
			line, rest, ok, err := s.line(p)
			if err != nil || !ok {
				return out, err
			}
			p = rest
			switch s.state {
			case inChunkEnd:
				if len(line) != 2 {
					return out, fmt.Errorf("request %d: chunk data not followed by CRLF", s.requests)
				}
				s.state = inChunkSize
			case inChunkSize:
				size, err := chunkSize(line)
				if err != nil {
					return out, fmt.Errorf("request %d: %w", s.requests, err)
				}
				if size == 0 {
					s.state = inTrailer
				} else {
					s.state, s.left = inChunkData, size
				}
			case inTrailer:
				if len(line) == 2 {
					s.state = inHead
				}
			}
			out = append(out, line...)
		}
	}
	return out, nil
}

// line returns the next CRLF-ended line from the held bytes and p, and the rest of p.
func (s *HTTPStream) line(p []byte) (line, rest []byte, ok bool, err error) {
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		if len(s.held)+len(p) > maxChunkLine {
			return nil, nil, false, fmt.Errorf("request %d: a chunk or trailer line over %d KiB", s.requests, maxChunkLine>>10)
		}
		s.held = append(s.held, p...)
		return nil, nil, false, nil
	}
	line = append(s.held, p[:i+1]...)
	s.held = nil
	if len(line) > maxChunkLine {
		return nil, nil, false, fmt.Errorf("request %d: a chunk or trailer line over %d KiB", s.requests, maxChunkLine>>10)
	}
	if len(line) < 2 || line[len(line)-2] != '\r' || bytes.ContainsAny(line[:len(line)-2], "\r\n\x00") {
		return nil, nil, false, fmt.Errorf("request %d: a chunk or trailer line not ended by CRLF", s.requests)
	}
	return line, p[i+1:], true, nil
}

// chunkSize parses a chunk-size line: hex digits, optional extensions, CRLF.
func chunkSize(line []byte) (int64, error) {
	v, _, _ := strings.Cut(string(line[:len(line)-2]), ";")
	v = strings.TrimRight(v, " \t")
	if v == "" || len(v) > 15 {
		return 0, fmt.Errorf("a chunk size %q", clip(v))
	}
	n, err := strconv.ParseInt(v, 16, 64)
	if err != nil || strings.ContainsAny(v, "+-xX") {
		return 0, fmt.Errorf("a chunk size %q", clip(v))
	}
	return n, nil
}

// AwaitingUpgrade reports whether the stream waits for the server's answer to an upgrade.
func (s *HTTPStream) AwaitingUpgrade() bool { return s.state == awaitUpgrade }

// Upgraded tells an awaiting stream whether the server switched protocols (a 101 answer).
// It returns the held bytes to forward, or an error that ends the connection.
func (s *HTTPStream) Upgraded(switched bool) ([]byte, error) {
	if s.state != awaitUpgrade {
		return nil, errors.New("no upgrade is awaited")
	}
	if !switched {
		return nil, fmt.Errorf("request %d: the server did not switch protocols after an upgrade request; the connection is closed", s.requests)
	}
	s.state = opaque
	held := s.held
	s.held = nil
	return held, nil
}

// IsSwitchingProtocols reports whether a response's first bytes are a 101 status line.
func IsSwitchingProtocols(first []byte) bool {
	return bytes.HasPrefix(first, []byte("HTTP/1.1 101 ")) || bytes.HasPrefix(first, []byte("HTTP/1.0 101 "))
}
