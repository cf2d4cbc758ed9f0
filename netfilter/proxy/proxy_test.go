package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/netfilter"
	"github.com/agentrun/agentrun/netfilter/netfiltertest"
)

// The world the proxy sees: public addresses from a test DNS server, dialled (by Options.Dial)
// to servers on loopback, so the policy judges public addresses as it would in a sandbox.
const (
	publicAddr = "198.51.100.10"
	banner     = "SSH-2.0-test"
)

var zone = map[string]string{
	"allowed.test.": publicAddr,
	"evil.test.":    publicAddr,
	"rebind.test.":  "169.254.169.254",
	"private.test.": "10.0.0.1",
}

const profile = `name: p
network:
  allow: ["allowed.test:80,443,2222", "rebind.test:80,443", "private.test:80", "203.0.113.0/24:443"]
`

// sink keeps the proxy's events (events.Memory) for the cases to look through.
type sink struct{ events.Memory }

func (s *sink) has(kind events.Kind, verdict events.Verdict, text string) bool {
	for _, e := range s.Events() {
		if e.Kind == kind && e.Verdict == verdict && strings.Contains(fmt.Sprintf("%+v", e), text) {
			return true
		}
	}
	return false
}

type world struct {
	p      *Proxy
	events *sink
	mu     sync.Mutex
	dialed []string
	asked  []string
}

func (w *world) wasDialed() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.dialed...)
}

func newWorld(t *testing.T, audit bool, opts Options) *world {
	t.Helper()
	w := &world{events: &sink{}}
	hello := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { fmt.Fprintf(rw, "hello from %s", r.Host) })
	tlsSrv := httptest.NewTLSServer(hello)
	t.Cleanup(tlsSrv.Close)
	httpSrv := httptest.NewServer(hello)
	t.Cleanup(httpSrv.Close)
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	go func() {
		for {
			c, err := raw.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "%s\r\n", banner)
			c.Close()
		}
	}()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dnsSrv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(rw dns.ResponseWriter, req *dns.Msg) {
		q := req.Question[0]
		w.mu.Lock()
		w.asked = append(w.asked, q.Name)
		w.mu.Unlock()
		resp := new(dns.Msg)
		resp.SetReply(req)
		if a, ok := zone[q.Name]; ok && q.Qtype == dns.TypeA {
			resp.Answer = append(resp.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP(a)})
		} else if !ok {
			resp.Rcode = dns.RcodeNameError
		}
		_ = rw.WriteMsg(resp)
	})}
	go func() { _ = dnsSrv.ActivateAndServe() }()
	t.Cleanup(func() { _ = dnsSrv.Shutdown() })
	servers := map[string]string{
		publicAddr + ":443":  tlsSrv.Listener.Addr().String(),
		publicAddr + ":80":   httpSrv.Listener.Addr().String(),
		publicAddr + ":2222": raw.Addr().String(),
		"203.0.113.5:443":    tlsSrv.Listener.Addr().String(),
	}
	opts.Upstream = pc.LocalAddr().String()
	opts.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		w.mu.Lock()
		w.dialed = append(w.dialed, addr)
		w.mu.Unlock()
		if to, ok := servers[addr]; ok {
			return (&net.Dialer{}).DialContext(ctx, network, to)
		}
		return nil, fmt.Errorf("no server at %s in the test", addr)
	}
	policy := netfilter.NewPolicy(netfiltertest.Network(t, profile), nil)
	if audit {
		policy = policy.Audit()
	}
	p, err := Start(context.Background(), policy, w.events, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	w.p = p
	return w
}

// connect opens a CONNECT tunnel and returns the connection and the status code.
func (w *world) connect(t *testing.T, authority string) (net.Conn, *bufio.Reader, int) {
	t.Helper()
	c, err := net.Dial("tcp", w.p.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", authority, authority)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatalf("CONNECT %s: %v", authority, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
	}
	return c, br, resp.StatusCode
}

// getOver sends a GET for host over c (through TLS with sni, if set) and returns the body,
// or the error that ended it.
func getOver(c net.Conn, br *bufio.Reader, sni, host string) (string, error) {
	var rw io.ReadWriter = struct {
		io.Reader
		io.Writer
	}{br, c}
	if sni != "" {
		tc := tls.Client(&bufConn{Conn: c, r: br}, &tls.Config{ServerName: sni, InsecureSkipVerify: true})
		rw, br = tc, bufio.NewReader(tc)
	}
	if _, err := fmt.Fprintf(rw, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(b []byte) (int, error) { return c.r.Read(b) }

func TestConnect(t *testing.T) {
	w := newWorld(t, false, Options{})
	tests := []struct {
		name      string
		authority string
		status    int
		sni, host string // then a request through the tunnel
		want      string // in the body; "" when the tunnel must end
		event     string // in an event
	}{
		{"allowed https", "allowed.test:443", 200, "allowed.test", "allowed.test", "hello from allowed.test", ""},
		{"trailing dot, upper case", "Allowed.Test.:443", 200, "allowed.test", "allowed.test", "hello from allowed.test", ""},
		{"foreign SNI on an allowed name", "allowed.test:443", 200, "evil.test", "evil.test", "", "names evil.test, not allowed.test"},
		{"foreign Host through a tunnel on 80", "allowed.test:80", 200, "", "evil.test", "", "names evil.test, not allowed.test"},
		{"cleartext http through a tunnel", "allowed.test:80", 200, "", "allowed.test", "hello from allowed.test", ""},
		{"raw tcp on an allowed port", "allowed.test:2222", 200, "", "", banner, ""},
		{"a name not allowed", "evil.test:443", 403, "", "", "", "no rule allows this name"},
		{"a port not allowed", "allowed.test:8443", 403, "", "", "", "port 8443 is not allowed for allowed.test"},
		{"metadata", "169.254.169.254:80", 403, "", "", "", "cloud-metadata"},
		{"metadata decimal", "2852039166:80", 403, "", "", "", "cloud-metadata"},
		{"metadata hex", "0xa9fea9fe:80", 403, "", "", "", "cloud-metadata"},
		{"metadata octal", "0251.0376.0251.0376:80", 403, "", "", "", "cloud-metadata"},
		{"metadata short form", "169.254.43518:80", 403, "", "", "", "cloud-metadata"},
		{"metadata mapped v6", "[::ffff:169.254.169.254]:80", 403, "", "", "", "cloud-metadata"},
		{"metadata mapped hex v6", "[::ffff:a9fe:a9fe]:80", 403, "", "", "", "cloud-metadata"},
		{"metadata nat64", "[64:ff9b::a9fe:a9fe]:80", 403, "", "", "", "cloud-metadata"},
		{"metadata name", "metadata.google.internal:80", 403, "", "", "", "cloud-metadata name"},
		{"metadata by rebinding", "rebind.test:80", 403, "", "", "", "is a cloud-metadata address"},
		{"private by rebinding", "private.test:80", 403, "", "", "", "10.0.0.1 is in 10.0.0.0/8"},
		{"loopback", "127.0.0.1:80", 403, "", "", "", "127.0.0.0/8"},
		{"an address no rule names", publicAddr + ":443", 403, "", "", "", "no allowed name was resolved"},
		{"an address a CIDR allows", "203.0.113.5:443", 200, "anything.test", "x", "hello from x", ""},
		{"no port", "allowed.test", 400, "", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(w.wasDialed())
			c, br, status := w.connect(t, tc.authority)
			if status != tc.status {
				t.Fatalf("status %d, want %d", status, tc.status)
			}
			if status == 200 {
				var body string
				var err error
				if tc.host == "" {
					b, _ := io.ReadAll(br)
					body = string(b)
				} else {
					body, err = getOver(c, br, tc.sni, tc.host)
				}
				if tc.want == "" && (err == nil || body != "") {
					t.Errorf("the tunnel carried %q, %v; want it closed", body, err)
				}
				if tc.want != "" && !strings.Contains(body, tc.want) {
					t.Errorf("got %q, %v; want %q", body, err, tc.want)
				}
			}
			if tc.want == "" && len(w.wasDialed()) != before {
				t.Errorf("a denied request was dialled: %v", w.wasDialed()[before:])
			}
			if tc.event != "" && !w.events.has(events.KindFlow, events.Denied, tc.event) && !w.events.has(events.KindDNS, events.Denied, tc.event) && !w.events.has(events.KindFlow, events.Allowed, tc.event) {
				t.Errorf("no event with %q in %+v", tc.event, w.events.Events())
			}
		})
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, q := range w.asked {
		if q != "allowed.test." && q != "rebind.test." && q != "private.test." {
			t.Errorf("%s reached the DNS server", q)
		}
	}
}

func TestForward(t *testing.T) {
	w := newWorld(t, false, Options{})
	tests := []struct {
		name, req string
		want      string // in the answer
	}{
		{"allowed", "GET http://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\nConnection: close\r\n\r\n", "hello from allowed.test"},
		{"foreign Host", "GET http://allowed.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n", "403 Forbidden"},
		{"not allowed", "GET http://evil.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n", "403 Forbidden"},
		{"metadata decimal", "GET http://2852039166/ HTTP/1.1\r\nHost: 2852039166\r\n\r\n", "cloud-metadata"},
		{"origin form", "GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n", "400 Bad Request"},
		{"https absolute form", "GET https://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\n\r\n", "400 Bad Request"},
		{"a second request to another host", "GET http://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\nConnection: close\r\n\r\nGET http://evil.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n", "hello from allowed.test"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", w.p.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, tc.req)
			b, _ := io.ReadAll(c) // the proxy closes: at a refusal, or at the second request
			if !strings.Contains(string(b), tc.want) {
				t.Errorf("got %q, want %q", b, tc.want)
			}
			if strings.Contains(string(b), "hello from evil.test") {
				t.Errorf("a request for evil.test got through: %q", b)
			}
		})
	}
	w.p.Close() // every flow's event is recorded when its relay ends
	if !w.events.has(events.KindFlow, events.Denied, "a request naming evil.test on a connection to allowed.test") {
		t.Errorf("no event for the cut connection: %+v", w.events.Events())
	}
}

// socks runs a SOCKS5 exchange and returns the reply code and the connection.
func socks(t *testing.T, addr string, cmd, atyp byte, dst []byte, port uint16) (byte, net.Conn) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.Write([]byte{5, 1, 0})
	var sel [2]byte
	if _, err := io.ReadFull(c, sel[:]); err != nil || sel != [2]byte{5, 0} {
		t.Fatalf("method selection %v, %v", sel, err)
	}
	req := append([]byte{5, cmd, 0, atyp}, dst...)
	c.Write(append(req, byte(port>>8), byte(port)))
	var rep [10]byte
	if _, err := io.ReadFull(c, rep[:]); err != nil {
		t.Fatalf("reply: %v", err)
	}
	return rep[1], c
}

func TestSOCKS5(t *testing.T) {
	w := newWorld(t, false, Options{})
	name := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	tests := []struct {
		name string
		cmd  byte
		atyp byte
		dst  []byte
		port uint16
		rep  byte
	}{
		{"allowed name", socksConnect, atypDomain, name("allowed.test"), 443, repSucceeded},
		{"name not allowed", socksConnect, atypDomain, name("evil.test"), 443, repNotAllowed},
		{"port not allowed", socksConnect, atypDomain, name("allowed.test"), 8443, repNotAllowed},
		{"metadata address", socksConnect, atypIPv4, []byte{169, 254, 169, 254}, 80, repNotAllowed},
		{"metadata as a name", socksConnect, atypDomain, name("0xa9fea9fe"), 80, repNotAllowed},
		{"metadata mapped v6", socksConnect, atypIPv6, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 169, 254, 169, 254}, 80, repNotAllowed},
		{"an address a CIDR allows", socksConnect, atypIPv4, []byte{203, 0, 113, 5}, 443, repSucceeded},
		{"BIND", 2, atypDomain, name("allowed.test"), 443, repCmdNotSupp},
		{"UDP ASSOCIATE", 3, atypIPv4, []byte{0, 0, 0, 0}, 0, repCmdNotSupp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, c := socks(t, w.p.Addr().String(), tc.cmd, tc.atyp, tc.dst, tc.port)
			if rep != tc.rep {
				t.Fatalf("reply %d, want %d", rep, tc.rep)
			}
			if rep == repSucceeded {
				body, err := getOver(c, bufio.NewReader(c), "allowed.test", "allowed.test")
				if !strings.Contains(body, "hello from allowed.test") {
					t.Errorf("through the tunnel: %q, %v", body, err)
				}
			}
		})
	}
	// SNI must name the SOCKS request's name.
	rep, c := socks(t, w.p.Addr().String(), socksConnect, atypDomain, name("allowed.test"), 443)
	if rep != repSucceeded {
		t.Fatalf("reply %d", rep)
	}
	if body, err := getOver(c, bufio.NewReader(c), "evil.test", "evil.test"); err == nil || body != "" {
		t.Errorf("a foreign SNI through SOCKS got %q, %v", body, err)
	}
}

func TestAudit(t *testing.T) {
	w := newWorld(t, true, Options{})
	c, br, status := w.connect(t, "allowed.test:443")
	if status != 200 {
		t.Fatal(status)
	}
	if body, _ := getOver(c, br, "evil.test", "evil.test"); body != "hello from evil.test" {
		t.Errorf("audit mode cut a foreign SNI: %q", body)
	}
	if _, _, status := w.connect(t, "169.254.169.254:80"); status != 403 {
		t.Errorf("audit mode let metadata through: %d", status)
	}
	w.p.Close() // every flow's event is recorded when its relay ends
	if !w.events.has(events.KindFlow, events.WouldDeny, "names evil.test") {
		t.Errorf("no would-deny event: %+v", w.events.Events())
	}
}

// A connection that never finishes its handshake is closed; past MaxConns a new one is closed
// at once; Close ends open tunnels and the listener.
func TestBounds(t *testing.T) {
	w := newWorld(t, false, Options{HandshakeTimeout: DefaultHandshakeTimeout / 100})
	idle, err := net.Dial("tcp", w.p.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if b, err := io.ReadAll(idle); err != nil || len(b) != 0 {
		t.Fatalf("the idle connection: %q, %v", b, err)
	}

	w = newWorld(t, false, Options{MaxConns: 1})
	held, _, status := w.connect(t, "allowed.test:80") // waits for its first flight, holding the slot
	if status != 200 {
		t.Fatalf("the first tunnel: %d", status)
	}
	over, err := net.Dial("tcp", w.p.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	fmt.Fprintf(over, "CONNECT allowed.test:2222 HTTP/1.1\r\nHost: x\r\n\r\n")
	if b, _ := io.ReadAll(over); len(b) != 0 {
		t.Errorf("a connection over MaxConns was served: %q", b)
	}
	w.p.Close()
	if b, _ := io.ReadAll(held); len(b) != 0 {
		t.Errorf("the held tunnel carried %q", b)
	}
	if c, err := net.Dial("tcp", w.p.Addr().String()); err == nil {
		c.Close()
		t.Error("the proxy still listens after Close")
	}
}

func TestEnv(t *testing.T) {
	env := strings.Join(Env("127.0.0.1:4242"), " ")
	for _, want := range []string{"HTTPS_PROXY=http://127.0.0.1:4242", "https_proxy=http://127.0.0.1:4242", "ALL_PROXY=socks5h://127.0.0.1:4242", "NO_PROXY= ", "no_proxy="} {
		if !strings.Contains(env+" ", want) {
			t.Errorf("Env lacks %s: %s", want, env)
		}
	}
}
