package netstack

import (
	"bufio"
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
