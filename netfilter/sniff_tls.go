package netfilter

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// TLS constants (RFC 8446, RFC 6066).
const (
	recordHandshake      = 22
	maxRecord            = 1 << 14
	handshakeClientHello = 1
	extServerName        = 0
	sniHostName          = 0
)

var errMalformedHello = errors.New("a malformed TLS ClientHello")

// sniffTLS reassembles the ClientHello from the handshake records at the start of b and
// returns its server name. Records of another type before it is whole, records over 16 KiB,
// empty records and handshake bytes after it in its last record are refused.
func sniffTLS(b []byte) (FirstFlight, error) {
	var msg []byte
	off := 0
	for {
		if len(b)-off < 5 {
			return FirstFlight{}, ErrIncomplete
		}
		typ, major, n := b[off], b[off+1], int(b[off+3])<<8|int(b[off+4])
		switch {
		case typ != recordHandshake:
			return FirstFlight{}, fmt.Errorf("a TLS record of type %d before the ClientHello was complete", typ)
		case major != 3:
			return FirstFlight{}, fmt.Errorf("a TLS record of version %d.%d", major, b[off+2])
		case n == 0:
			return FirstFlight{}, errors.New("an empty TLS handshake record")
		case n > maxRecord:
			return FirstFlight{}, fmt.Errorf("a TLS record of %d bytes (16 KiB at most)", n)
		case off+5+n > MaxFirstFlight:
			return FirstFlight{}, fmt.Errorf("a ClientHello over %d KiB", MaxFirstFlight>>10)
		case len(b)-off-5 < n:
			return FirstFlight{}, ErrIncomplete
		}
		msg = append(msg, b[off+5:off+5+n]...)
		off += 5 + n
		if len(msg) < 4 {
			continue
		}
		if msg[0] != handshakeClientHello {
			return FirstFlight{}, fmt.Errorf("a TLS handshake of type %d where a ClientHello belongs", msg[0])
		}
		size := 4 + (int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3]))
		if size > MaxFirstFlight {
			return FirstFlight{}, fmt.Errorf("a ClientHello over %d KiB", MaxFirstFlight>>10)
		}
		if len(msg) < size {
			continue
		}
		if len(msg) > size {
			return FirstFlight{}, errors.New("more handshake data after the ClientHello in its record")
		}
		name, err := clientHelloName(msg[4:])
		if err != nil {
			return FirstFlight{}, err
		}
		return FirstFlight{Name: name, Len: off}, nil
	}
}

// clientHelloName parses a ClientHello's body strictly and returns its one host_name.
func clientHelloName(body []byte) (string, error) {
	s := cryptobyte.String(body)
	var version uint16
	var sessionID, suites, compression, exts cryptobyte.String
	if !s.ReadUint16(&version) || !s.Skip(32) ||
		!s.ReadUint8LengthPrefixed(&sessionID) || len(sessionID) > 32 ||
		!s.ReadUint16LengthPrefixed(&suites) || len(suites) == 0 || len(suites)%2 != 0 ||
		!s.ReadUint8LengthPrefixed(&compression) || len(compression) == 0 {
		return "", errMalformedHello
	}
	if s.Empty() {
		return "", errors.New("a TLS ClientHello without extensions, so without a server name")
	}
	if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return "", errMalformedHello
	}
	seen := map[uint16]bool{}
	name, named := "", false
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return "", errMalformedHello
		}
		if seen[typ] {
			return "", fmt.Errorf("a TLS ClientHello with extension %d twice", typ)
		}
		seen[typ] = true
		if typ != extServerName {
			continue
		}
		var err error
		if name, err = serverName(data); err != nil {
			return "", err
		}
		named = true
	}
	if !named {
		return "", errors.New("a TLS ClientHello without a server name (SNI)")
	}
	return name, nil
}

// serverName parses a server_name extension: exactly one host_name.
func serverName(data cryptobyte.String) (string, error) {
	var list cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) || !data.Empty() || list.Empty() {
		return "", errMalformedHello
	}
	var name string
	for n := 0; !list.Empty(); n++ {
		var typ uint8
		var host cryptobyte.String
		if !list.ReadUint8(&typ) || !list.ReadUint16LengthPrefixed(&host) {
			return "", errMalformedHello
		}
		if typ != sniHostName {
			return "", fmt.Errorf("a TLS server_name entry of type %d", typ)
		}
		if n > 0 {
			return "", errors.New("a TLS ClientHello naming two servers")
		}
		h, err := validHost(string(host))
		if err != nil {
			return "", fmt.Errorf("a TLS server name that is not a host name: %w", err)
		}
		name = h
	}
	return name, nil
}
