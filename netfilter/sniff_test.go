package netfilter

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// realClientHello records the first flight crypto/tls sends for serverName.
func realClientHello(t testing.TB, serverName string) []byte {
	t.Helper()
	client, server := net.Pipe()
	defer client.Close()
	go func() {
		c := tls.Client(client, &tls.Config{ServerName: serverName, InsecureSkipVerify: true})
		_ = c.Handshake()
	}()
	var buf bytes.Buffer
	tmp := make([]byte, 4096)
	_ = server.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, err := SniffFirstFlight(buf.Bytes()); err != ErrIncomplete {
			break
		}
		n, err := server.Read(tmp)
		if err != nil {
			t.Fatalf("reading the ClientHello: %v", err)
		}
		buf.Write(tmp[:n])
	}
	server.Close()
	return buf.Bytes()
}

// ext is one ClientHello extension for helloBody.
type ext struct {
	typ  uint16
	data []byte
}

func sniExt(names ...string) ext {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, n := range names {
			b.AddUint8(0)
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(n)) })
		}
	})
	return ext{0, b.BytesOrPanic()}
}

// helloMsg builds a ClientHello handshake message (header included) with exts.
func helloMsg(exts ...ext) []byte {
	var b cryptobyte.Builder
	b.AddUint8(handshakeClientHello)
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(0x0303)
		b.AddBytes(make([]byte, 32))
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 32)) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(0x1301) })
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
		if exts == nil {
			return
		}
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, e := range exts {
				b.AddUint16(e.typ)
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(e.data) })
			}
		})
	})
	return b.BytesOrPanic()
}

// records wraps msg in handshake records of at most size bytes each.
func records(msg []byte, size int) []byte {
	var out []byte
	for len(msg) > 0 {
		n := min(size, len(msg))
		out = append(out, recordHandshake, 3, 1, byte(n>>8), byte(n))
		out = append(out, msg[:n]...)
		msg = msg[n:]
	}
	return out
}

func TestSniffTLS(t *testing.T) {
	hello := helloMsg(sniExt("Allowed.Test."), ext{0x002b, []byte{2, 3, 4}})
	big := helloMsg(sniExt("allowed.test"), ext{21, make([]byte, 20000)})
	tests := []struct {
		name  string
		in    []byte
		want  string // the name, or in the error
		fails bool
	}{
		{"one record", records(hello, maxRecord), "allowed.test", false},
		{"split over two records", records(hello, 40), "allowed.test", false},
		{"one byte per record", records(hello, 1), "allowed.test", false},
		{"over 16 KiB, two records", records(big, maxRecord), "allowed.test", false},
		{"ECH outer name", records(helloMsg(sniExt("public.test"), ext{0xfe0d, make([]byte, 200)}), maxRecord), "public.test", false},
		{"early data after it", append(records(hello, maxRecord), 0x17, 3, 3, 0, 1, 9), "allowed.test", false},
		{"no SNI", records(helloMsg(ext{0x002b, []byte{2, 3, 4}}), maxRecord), "without a server name", true},
		{"no extensions", records(helloMsg(), maxRecord), "without extensions", true},
		{"two names", records(helloMsg(sniExt("allowed.test", "evil.test")), maxRecord), "two servers", true},
		{"SNI twice", records(helloMsg(sniExt("allowed.test"), sniExt("evil.test")), maxRecord), "extension 0 twice", true},
		{"not a host name", records(helloMsg(sniExt("evil.test\x00allowed.test")), maxRecord), "not a host name", true},
		{"empty name", records(helloMsg(sniExt("")), maxRecord), "not a host name", true},
		{"alert between records", append(append(records(hello, 40)[:45], 21, 3, 1, 0, 2, 2, 40), records(hello, 40)[45:]...), "type 21", true},
		{"empty record", append([]byte{22, 3, 1, 0, 0}, records(hello, maxRecord)...), "empty", true},
		{"record over 16 KiB", records(big, 20000), "16 KiB at most", true},
		{"handshake bytes after it", records(append(hello, 1, 0, 0, 0), maxRecord), "after the ClientHello", true},
		{"not a ClientHello", records(append([]byte{2}, hello[1:]...), maxRecord), "type 2", true},
		{"SSLv2-style version", []byte{22, 2, 0, 0, 1, 1}, "version 2.0", true},
		{"truncated body", records([]byte{1, 0, 0, 3, 3, 3, 0}, maxRecord), "malformed", true},
		{"declared over 64 KiB", records([]byte{1, 1, 0, 0, 3, 3}, maxRecord), "over 64 KiB", true},
		{"ssh", []byte("SSH-2.0-OpenSSH_9.2\r\n"), "neither", true},
		{"binary", []byte{0, 1, 2}, "neither", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ff, err := SniffFirstFlight(tc.in)
			if tc.fails {
				if err == nil || err == ErrIncomplete || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("SniffFirstFlight = %+v, %v; want an error with %q", ff, err, tc.want)
				}
				return
			}
			if err != nil || ff.Name != tc.want || ff.HTTP {
				t.Fatalf("SniffFirstFlight = %+v, %v; want %s", ff, err, tc.want)
			}
			for i := range ff.Len {
				if _, err := SniffFirstFlight(tc.in[:i]); err != ErrIncomplete {
					t.Fatalf("the first %d bytes: %v, want ErrIncomplete", i, err)
				}
			}
		})
	}
}

func TestSniffRealClientHello(t *testing.T) {
	ff, err := SniffFirstFlight(realClientHello(t, "Allowed.Test.Example"))
	if err != nil || ff.Name != "allowed.test.example" {
		t.Errorf("crypto/tls's ClientHello: %+v, %v", ff, err)
	}
	if _, err := SniffFirstFlight(realClientHello(t, "")); err == nil {
		t.Error("a ClientHello without SNI named a host")
	}
}

func TestSniffHTTP(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  string // the name, or in the error
		fails bool
	}{
		{"plain", "GET /x HTTP/1.1\r\nHost: Allowed.Test:8080\r\nUser-Agent: t\r\n\r\n", "allowed.test", false},
		{"trailing dot", "GET / HTTP/1.1\r\nHost: allowed.test.\r\n\r\n", "allowed.test", false},
		{"absolute form naming Host", "GET http://allowed.test/x HTTP/1.1\r\nHost: allowed.test\r\n\r\n", "allowed.test", false},
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: allowed.test\r\n\r\n", "allowed.test", false},
		{"with a body after", "POST / HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 3\r\n\r\nabc", "allowed.test", false},
		{"leading CRLF", "\r\nGET / HTTP/1.1\r\nHost: evil.test\r\n\r\n", "neither", true},
		{"leading space", " GET / HTTP/1.1\r\nHost: evil.test\r\n\r\n", "neither", true},
		{"two Hosts", "GET / HTTP/1.1\r\nHost: allowed.test\r\nHost: evil.test\r\n\r\n", "two Host", true},
		{"space before the colon", "GET / HTTP/1.1\r\nHost : evil.test\r\n\r\n", "malformed HTTP header", true},
		{"no Host", "GET / HTTP/1.0\r\nUser-Agent: t\r\n\r\n", "without a Host", true},
		{"two names in one Host", "GET / HTTP/1.1\r\nHost: allowed.test, evil.test\r\n\r\n", "not a host name", true},
		{"absolute form naming another", "GET http://evil.test/ HTTP/1.1\r\nHost: allowed.test\r\n\r\n", "for evil.test with the Host allowed.test", true},
		{"folded Host", "GET / HTTP/1.1\r\nHost: allowed.test\r\n evil.test\r\n\r\n", "folded", true},
		{"bare LF", "GET / HTTP/1.1\nHost: evil.test\r\nX: y\r\n\r\n", "malformed HTTP request line", true},
		{"bare LF in a header", "GET / HTTP/1.1\r\nHost: evil.test\nX: y\r\n\r\n", "bare CR", true},
		{"bare CR", "GET / HTTP/1.1\r\nHost: allowed.test\rHost: evil.test\r\n\r\n", "bare CR", true},
		{"CONNECT", "CONNECT evil.test:443 HTTP/1.1\r\nHost: evil.test:443\r\n\r\n", "CONNECT", true},
		{"h2 prior knowledge", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "prior knowledge", true},
		{"h2 preface, partial", "PRI * HT", "prior knowledge", true},
		{"HTTP/0.9", "GET /\r\n\r\n", "malformed HTTP request line", true},
		{"request line alone, bad", "GET / SPDY/3\r\n", "malformed HTTP request line", true},
		{"HTTP/2.0 request line", "GET / HTTP/2.0\r\nHost: allowed.test\r\n\r\n", "malformed HTTP request line", true},
		{"both lengths", "POST / HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "both", true},
		{"two lengths", "POST / HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", "two Content-Length", true},
		{"gzip coding", "POST / HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "other than chunked", true},
		{"signed length", "POST / HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: +3\r\n\r\n", "Content-Length", true},
		{"NUL in a value", "GET / HTTP/1.1\r\nHost: allowed.test\r\nX: a\x00b\r\n\r\n", "NUL", true},
		{"userinfo in the target", "GET http://allowed.test@evil.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n", "neither a path", true},
		{"upgrade to h2c", "GET / HTTP/1.1\r\nHost: allowed.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n", "only one to websocket", true},
		{"upgrade to TLS", "OPTIONS * HTTP/1.1\r\nHost: allowed.test\r\nUpgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n", "only one to websocket", true},
		{"two upgrades", "GET / HTTP/1.1\r\nHost: allowed.test\r\nUpgrade: websocket\r\nUpgrade: websocket\r\n\r\n", "only one to websocket", true},
		{"over 64 KiB", "GET / HTTP/1.1\r\nHost: allowed.test\r\nX: " + strings.Repeat("a", MaxFirstFlight) + "\r\n\r\n", "over 64 KiB", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ff, err := SniffFirstFlight([]byte(tc.in))
			if tc.fails {
				if err == nil || err == ErrIncomplete || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("SniffFirstFlight = %+v, %v; want an error with %q", ff, err, tc.want)
				}
				return
			}
			if err != nil || ff.Name != tc.want || !ff.HTTP {
				t.Fatalf("SniffFirstFlight = %+v, %v; want %s", ff, err, tc.want)
			}
			if _, err := SniffFirstFlight([]byte(tc.in)[:ff.Len-1]); err != ErrIncomplete {
				t.Errorf("without the last byte of the head: %v", err)
			}
		})
	}
	if ff, err := SniffFirstFlight([]byte("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n")); err != nil || ff.Name != "::1" {
		t.Errorf("an address in Host: %+v, %v", ff, err)
	}
}

// feedAll runs a stream over in, in pieces of size bytes, and returns what it forwarded and
// the first error.
func feedAll(s *HTTPStream, in []byte, size int) ([]byte, error) {
	var out []byte
	for len(in) > 0 {
		n := min(size, len(in))
		o, err := s.Feed(in[:n])
		out = append(out, o...)
		in = in[n:]
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func onlyAllowed(host string) error {
	if host != "allowed.test" {
		return errors.New("names " + host)
	}
	return nil
}

func TestHTTPStream(t *testing.T) {
	const (
		get      = "GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n"
		evil     = "GET / HTTP/1.1\r\nHost: evil.test\r\n\r\n"
		smuggled = "GET /x HTTP/1.1\r\nHost: evil.test\r\n\r\n"
	)
	tests := []struct {
		name string
		in   string
		sent string // what goes out
		err  string // "" when the stream stays open
	}{
		{"pipelined, same host", get + get, get + get, ""},
		{"pipelined, another host", get + evil, get, "request 2: names evil.test"},
		{"keep-alive, then a malformed one", get + "\r\n" + evil, get, "request 2: a malformed HTTP request line"},
		{"a request inside a Content-Length body", "POST / HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 36\r\n\r\n" + smuggled + get, "POST / HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 36\r\n\r\n" + smuggled + get, ""},
		{"a request after a Content-Length body", "POST / HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 2\r\n\r\nab" + evil, "POST / HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 2\r\n\r\nab", "request 2: names evil.test"},
		{"a request inside chunks", "POST / HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: chunked\r\n\r\n24;x=y\r\n" + smuggled + "\r\n0\r\nX-T: 1\r\n\r\n" + get, "POST / HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: chunked\r\n\r\n24;x=y\r\n" + smuggled + "\r\n0\r\nX-T: 1\r\n\r\n" + get, ""},
		{"a request after chunks", "POST / HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n" + evil, "POST / HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n", "request 2: names evil.test"},
		{"a chunk without its CRLF", "POST / HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", "POST / HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab", "not followed by CRLF"},
		{"a bad chunk size", "POST / HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\n", "POST / HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: chunked\r\n\r\n", "chunk size"},
		{"first request elsewhere", evil, "", "request 1: names evil.test"},
		{"an upgrade after a request", get + "GET /ws HTTP/1.1\r\nHost: allowed.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", get, "upgrade after other requests"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, size := range []int{1, 7, 1 << 20} {
				out, err := feedAll(NewHTTPStream(onlyAllowed), []byte(tc.in), size)
				if string(out) != tc.sent {
					t.Errorf("in pieces of %d: sent %q, want %q", size, out, tc.sent)
				}
				if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
					t.Errorf("in pieces of %d: error %v, want %q", size, err, tc.err)
				}
			}
		})
	}
}

func TestHTTPStreamUpgrade(t *testing.T) {
	const up = "GET /ws HTTP/1.1\r\nHost: allowed.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
	for _, switched := range []bool{true, false} {
		s := NewHTTPStream(onlyAllowed)
		out, err := s.Feed([]byte(up + "\x81\x05frame"))
		if err != ErrAwaitUpgrade || string(out) != up || !s.AwaitingUpgrade() {
			t.Fatalf("upgrade request: %q, %v", out, err)
		}
		if out, err := s.Feed([]byte(evilGet)); err != ErrAwaitUpgrade || len(out) != 0 {
			t.Fatalf("while awaiting: %q, %v", out, err)
		}
		held, err := s.Upgraded(switched)
		if !switched {
			if err == nil {
				t.Error("a refused upgrade left the stream open")
			}
			continue
		}
		if err != nil || string(held) != "\x81\x05frame"+evilGet {
			t.Fatalf("after a 101: %q, %v", held, err)
		}
		if out, err := s.Feed([]byte(evilGet)); err != nil || string(out) != evilGet {
			t.Errorf("after a 101 the stream is opaque: %q, %v", out, err)
		}
	}
	if !IsSwitchingProtocols([]byte("HTTP/1.1 101 Switching Protocols\r\n")) || IsSwitchingProtocols([]byte("HTTP/1.1 200 OK\r\n")) {
		t.Error("IsSwitchingProtocols")
	}
}

const evilGet = "GET / HTTP/1.1\r\nHost: evil.test\r\n\r\n"

func TestBindings(t *testing.T) {
	b := NewBindings()
	now := time.Unix(1000, 0)
	b.now = func() time.Time { return now }
	a := netip.MustParseAddr("192.0.2.10")
	b.Add("Allowed.Test.Example.", []netip.Addr{a, netip.MustParseAddr("2001:db8::10")}, time.Second)
	b.Add("other.example", []netip.Addr{a}, time.Hour)
	if got := b.Names(netip.MustParseAddr("::ffff:192.0.2.10")); len(got) != 2 || got[0] != "allowed.test.example" {
		t.Errorf("Names = %v", got)
	}
	now = now.Add(minBinding + time.Second)
	if got := b.Names(a); len(got) != 1 || got[0] != "other.example" {
		t.Errorf("after expiry Names = %v", got)
	}
}
