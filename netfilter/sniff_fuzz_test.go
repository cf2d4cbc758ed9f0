package netfilter

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The seed corpora are here; what `go test -fuzz` found worth keeping is in
// testdata/fuzz/FuzzClientHello and testdata/fuzz/FuzzHTTPRequest, and every `go test` replays
// both.

func FuzzClientHello(f *testing.F) {
	hello := helloMsg(sniExt("allowed.test"), ext{0x002b, []byte{2, 3, 4}})
	f.Add(realClientHello(f, "allowed.test"))
	f.Add(records(hello, maxRecord))
	f.Add(records(hello, 7))
	f.Add(records(helloMsg(sniExt("allowed.test"), ext{21, make([]byte, 17000)}), maxRecord))
	f.Add(records(helloMsg(sniExt("public.test"), ext{0xfe0d, make([]byte, 64)}), maxRecord))
	f.Add(records(helloMsg(sniExt("allowed.test", "evil.test")), maxRecord))
	f.Add(records(helloMsg(sniExt("allowed.test"), sniExt("evil.test")), maxRecord))
	f.Add(records(helloMsg(), maxRecord))
	f.Add(append(records(hello, 40)[:45], 21, 3, 1, 0, 2, 2, 40))
	f.Add([]byte{22, 3, 1, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 || data[0] != recordHandshake {
			return
		}
		ff, err := SniffFirstFlight(data)
		if err != nil {
			if err != ErrIncomplete && ff != (FirstFlight{}) {
				t.Fatalf("an error with a first flight: %+v, %v", ff, err)
			}
			return
		}
		if ff.HTTP || ff.Len < 9 || ff.Len > len(data) || ff.Len > MaxFirstFlight {
			t.Fatalf("first flight %+v of %d bytes", ff, len(data))
		}
		if h, err := validHost(ff.Name); err != nil || h != ff.Name {
			t.Fatalf("name %q is not a lower-case host name: %v", ff.Name, err)
		}
		// The name is decided by the ClientHello's own bytes: a shorter prefix is
		// incomplete, and nothing after it changes the answer.
		if _, err := SniffFirstFlight(data[:ff.Len-1]); err != ErrIncomplete {
			t.Fatalf("one byte short: %v", err)
		}
		if again, err := SniffFirstFlight(data[:ff.Len]); err != nil || again != ff {
			t.Fatalf("the ClientHello alone: %+v, %v", again, err)
		}
		// Where crypto/tls reads the same ClientHello, it reads the same name.
		if name, ok := goServerName(data[:ff.Len]); ok && name != ff.Name {
			t.Fatalf("crypto/tls reads %q, the sniffer %q", name, ff.Name)
		}
	})
}

// goServerName runs crypto/tls's server over a recorded ClientHello just far enough to read
// its server name.
func goServerName(hello []byte) (string, bool) {
	var name string
	var ok bool
	srv := tls.Server(&replayConn{r: bytes.NewReader(hello)}, &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		name, ok = strings.ToLower(h.ServerName), true
		return nil, net.ErrClosed
	}})
	_ = srv.Handshake()
	return name, ok && name != ""
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

func FuzzHTTPRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\nGET / HTTP/1.1\r\nHost: evil.test\r\n\r\n",
		"\r\nGET / HTTP/1.1\r\nHost: evil.test\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: allowed.test\r\nHost: evil.test\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : evil.test\r\n\r\n",
		"GET http://evil.test/ HTTP/1.1\r\nHost: allowed.test\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: evil.test\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.1\r\nHost: evil.test\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET /ws HTTP/1.1\r\nHost: allowed.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x00",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
	} {
		f.Add([]byte(s), uint16(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		ff, err := SniffFirstFlight(data)
		if err == nil && ff.HTTP {
			// net/http reads the same head, and its Host names the same host.
			req, rerr := http.ReadRequest(bufio.NewReader(bytes.NewReader(data[:ff.Len])))
			if rerr != nil {
				t.Fatalf("the sniffer took a head net/http refuses: %v", rerr)
			}
			if h, herr := hostOf(req.Host); herr != nil || h != ff.Name {
				t.Fatalf("net/http's Host %q (%v), the sniffer's %q", req.Host, herr, ff.Name)
			}
			if _, err := SniffFirstFlight(data[:ff.Len-1]); err == nil {
				t.Fatal("the head without its last byte named a host")
			}
		}
		// The stream forwards a prefix of what came, the same however it is cut.
		judge := func(string) error { return nil }
		whole, werr := feedAll(NewHTTPStream(judge), data, len(data)+1)
		cut := min(int(split), len(data))
		parts, perr := feedAll(NewHTTPStream(judge), data, max(cut, 1))
		if !bytes.HasPrefix(data, whole) || !bytes.Equal(whole, parts) || (werr == nil) != (perr == nil) {
			t.Fatalf("whole: %q, %v; in parts of %d: %q, %v", whole, werr, cut, parts, perr)
		}
		if err == nil && ff.HTTP && (werr == nil || werr == ErrAwaitUpgrade) && !bytes.HasPrefix(whole, data[:ff.Len]) {
			t.Fatalf("the first request was judged good but not forwarded: %q", whole)
		}
	})
}
