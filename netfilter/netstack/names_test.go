package netstack

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agentrun/agentrun/events"
)

// splitHello is a net.Conn whose writes before the handshake is done go out as separate
// TLS records of at most size bytes: the ClientHello arrives in pieces.
type splitHello struct {
	net.Conn
	size int
	done bool
}

func (c *splitHello) Write(p []byte) (int, error) {
	if c.done || len(p) < 5 || p[0] != 22 {
		return c.Conn.Write(p)
	}
	c.done = true
	body := p[5:]
	var out []byte
	for len(body) > 0 {
		n := min(c.size, len(body))
		out = append(out, 22, p[1], p[2], byte(n>>8), byte(n))
		out = append(out, body[:n]...)
		body = body[n:]
	}
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func TestSplitClientHelloIsReassembled(t *testing.T) {
	f := newFixture(t)
	f.lookup(t, "allowed.test.example")
	for _, tc := range []struct {
		sni   string
		allow bool
	}{{"allowed.test.example", true}, {"evil.test", false}} {
		c, err := f.dial(t, allowed, 443)
		if err != nil {
			t.Fatal(err)
		}
		tc2 := tls.Client(&splitHello{Conn: c, size: 50}, &tls.Config{ServerName: tc.sni, InsecureSkipVerify: true})
		_ = tc2.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = io.WriteString(tc2, "GET / HTTP/1.1\r\nHost: allowed.test.example\r\nConnection: close\r\n\r\n")
		var body []byte
		if err == nil {
			body, _ = io.ReadAll(tc2)
		}
		c.Close()
		if got := strings.Contains(string(body), "hello from"); got != tc.allow {
			t.Errorf("SNI %s over split records: answered %v (%q, %v)", tc.sni, got, body, err)
		}
	}
	if !f.rec.find(events.Denied, "names evil.test") {
		t.Errorf("no denied event naming evil.test: %+v", f.rec.Events())
	}
}

func TestSlowFirstFlightIsDenied(t *testing.T) {
	f := newFixture(t)
	f.st.cfg.FirstFlightTimeout = 100 * time.Millisecond
	f.lookup(t, "allowed.test.example")
	c, err := f.dial(t, allowed, 443)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte{22, 3, 1}); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 10)); err == nil {
		t.Errorf("a stalled ClientHello got %d bytes of answer", n)
	}
	if !f.rec.find(events.Denied, "no complete first flight within 100ms (3 bytes came)") {
		t.Errorf("no denied event for the stalled first flight: %+v", f.rec.Events())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.dialed) != 0 {
		t.Errorf("a stalled flow was dialled: %v", f.dialed)
	}
}

func TestPipelinedRequestToAnotherHostIsCut(t *testing.T) {
	f := newFixture(t)
	f.lookup(t, "allowed.test.example")
	c, err := f.dial(t, allowed, 443)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Cleartext HTTP on 443: the fixture's server answers 400 to it, but it is relayed.
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: allowed.test.example\r\n\r\nGET / HTTP/1.1\r\nHost: evil.test\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to the first request: %v", err)
	}
	resp.Body.Close()
	// The flow's event is recorded when its relay ends: wait for every flow to end.
	c.Close()
	f.st.wg.Wait()
	if !f.rec.find(events.Denied, "closed at request 2: a request naming evil.test") {
		t.Errorf("no event for the cut: %+v", f.rec.Events())
	}
}

// upgradeServer answers the first request head on each connection with answer, then echoes
// what comes.
func upgradeServer(t *testing.T, answer string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				_, _ = io.WriteString(c, answer)
				_, _ = io.Copy(c, br)
			}()
		}
	}()
	return l.Addr().String()
}

func TestUpgradeMakesTheStreamOpaque(t *testing.T) {
	const upgrade = "GET /ws HTTP/1.1\r\nHost: allowed.test.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
	for _, tc := range []struct {
		name, answer string
		echoed       bool
		event        string
	}{
		{"switched", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", true, ""},
		{"refused", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, "did not switch protocols"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			addr := upgradeServer(t, tc.answer)
			f.st.cfg.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			}
			f.lookup(t, "allowed.test.example")
			c, err := f.dial(t, allowed, 443)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			// The frame sent with the request is held until the server's answer.
			if _, err := io.WriteString(c, upgrade+"frame-1;"); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no answer to the upgrade: %v", err)
			}
			_, _ = io.WriteString(c, evilGet)
			rest, _ := io.ReadAll(io.LimitReader(br, int64(len("frame-1;"+evilGet))))
			if got := string(rest) == "frame-1;"+evilGet; got != tc.echoed {
				t.Errorf("status %d: echoed %q", resp.StatusCode, rest)
			}
			if tc.event != "" {
				c.Close()
				f.st.wg.Wait()
				if !f.rec.find(events.Denied, tc.event) {
					t.Errorf("no event with %q: %+v", tc.event, f.rec.Events())
				}
			}
		})
	}
}

const evilGet = "GET / HTTP/1.1\r\nHost: evil.test\r\n\r\n"

func TestAuditRelaysWhatEnforceWouldCut(t *testing.T) {
	f := newFixture(t)
	f.st.cfg.Policy = f.st.cfg.Policy.Audit()
	f.lookup(t, "allowed.test.example")
	c, err := f.dial(t, allowed, 443)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A leading CRLF: no name. Audit mode lets it through and records what enforce would do.
	_, _ = io.WriteString(c, "\r\n"+evilGet)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.ReadAll(c) // the TLS server closes on seeing cleartext
	c.Close()
	f.st.wg.Wait()
	f.mu.Lock()
	if len(f.dialed) != 1 {
		t.Errorf("audit mode did not relay the flow: dialled %v", f.dialed)
	}
	f.mu.Unlock()
	if !f.rec.find(events.WouldDeny, "names no single host (neither a TLS ClientHello nor an HTTP request") {
		t.Errorf("no would-deny event: %+v", f.rec.Events())
	}
	// A good first request, then a malformed one and one naming another host: recorded,
	// not cut.
	c, err = f.dial(t, allowed, 443)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: allowed.test.example\r\n\r\n"+evilGet+"\r\n"+evilGet)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.ReadAll(c)
	c.Close()
	f.st.wg.Wait()
	for _, want := range []string{"names evil.test, not allowed.test.example", "enforce mode would close the connection at request 3: a malformed HTTP request line"} {
		if !f.rec.find(events.WouldDeny, want) {
			t.Errorf("no would-deny event with %q: %+v", want, f.rec.Events())
		}
	}
	if f.rec.find(events.Denied, "") {
		t.Errorf("audit mode denied a flow: %+v", f.rec.Events())
	}
}
