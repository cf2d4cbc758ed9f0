package integration

import (
	_ "embed"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The name check fails closed: on ports 80 and 443 of an allowed name a connection goes
// through only once a complete, well-formed ClientHello or HTTP request names that name, and
// cleartext HTTP is followed request by request. Each attack below reached evil.test on
// allowed.test's address before (domain fronting); each has a twin that must still work.

const namesProfile = `name: names
extends: [base]
network:
  allow: ["allowed.test:80,443,2222"]
`

//go:embed testdata/nameprobe.py
var nameProbe string

type nameCase struct {
	name   string
	script string // $P runs the probe: python3 nameprobe.py
	want   string // in the output
	absent string // never in the output
	event  string // in a denied flow event's reason
}

const (
	getAllowed = `s:GET / HTTP/1.1\r\nHost: allowed.test\r\nConnection: close\r\n\r\n`
	closeHdr   = `Connection: close\r\n\r\n`
)

var nameCases = []nameCase{
	// The six that got through, and their twins.
	{name: "leading CRLF", script: `$P allowed.test 80 's:\r\nGET / HTTP/1.1\r\nHost: evil.test\r\n` + closeHdr + `'`, want: "CLOSED", absent: "hello from evil.test", event: "neither a TLS ClientHello nor an HTTP request"},
	{name: "leading CRLF twin", script: `$P allowed.test 80 '` + getAllowed + `'`, want: "hello from allowed.test"},
	{name: "duplicate Host", script: `$P allowed.test 80 's:GET / HTTP/1.1\r\nHost: allowed.test\r\nHost: evil.test\r\n` + closeHdr + `'`, want: "CLOSED", absent: "hello from evil.test", event: "two Host headers"},
	{name: "duplicate Host reversed", script: `$P allowed.test 80 's:GET / HTTP/1.1\r\nHost: evil.test\r\nHost: allowed.test\r\n` + closeHdr + `'`, want: "CLOSED", absent: "hello from evil.test", event: "two Host headers"},
	{name: "space before the colon", script: `$P allowed.test 80 's:GET / HTTP/1.1\r\nHost : evil.test\r\n` + closeHdr + `'`, want: "CLOSED", absent: "hello from evil.test", event: "malformed HTTP header line"},
	{name: "absolute target naming another host", script: `$P allowed.test 80 's:GET http://evil.test/ HTTP/1.1\r\nHost: allowed.test\r\n` + closeHdr + `'`, want: "CLOSED", absent: "hello from evil.test", event: "for evil.test with the Host allowed.test"},
	{name: "pause after the request line", script: `$P allowed.test 80 's:GET / HTTP/1.1\r\n' p:0.8 's:Host: evil.test\r\n` + closeHdr + `'`, want: "CLOSED", absent: "hello from evil.test", event: "names evil.test, not allowed.test"},
	{name: "pause after the request line twin", script: `$P allowed.test 80 's:GET / HTTP/1.1\r\n' p:0.8 's:Host: allowed.test\r\n` + closeHdr + `'`, want: "hello from allowed.test"},
	{name: "ClientHello over two records", script: `$P allowed.test 443 h:evil.test,split=60`, want: "CLOSED", event: "names evil.test, not allowed.test"},
	{name: "ClientHello over two records twin", script: `$P allowed.test 443 h:allowed.test,split=60`, want: "SERVERHELLO"},
	{name: "ClientHello in one-byte records", script: `$P allowed.test 443 h:evil.test,split=1`, want: "CLOSED"},
	{name: "ClientHello in one-byte records twin", script: `$P allowed.test 443 h:allowed.test,split=1`, want: "SERVERHELLO"},
	{name: "pause after 3 bytes of the ClientHello", script: `$P allowed.test 443 h:evil.test,stall=3`, want: "CLOSED", event: "names evil.test, not allowed.test"},
	{name: "pause after 3 bytes of the ClientHello twin", script: `$P allowed.test 443 h:allowed.test,stall=3`, want: "SERVERHELLO"},
	// More of the class.
	{name: "two names in the SNI", script: `$P allowed.test 443 h:allowed.test,also=evil.test`, want: "CLOSED", event: "naming two servers"},
	{name: "ClientHello over 16 KiB", script: `$P allowed.test 443 h:evil.test,pad=17000`, want: "CLOSED", event: "names evil.test, not allowed.test"},
	{name: "ClientHello over 16 KiB twin", script: `$P allowed.test 443 h:allowed.test,pad=17000`, want: "SERVERHELLO"},
	{name: "TLS 1.3 with ECH GREASE, outer name foreign", script: `$P allowed.test 443 h:evil.test,ech`, want: "CLOSED", event: "names evil.test, not allowed.test"},
	{name: "TLS 1.3 with ECH GREASE twin", script: `$P allowed.test 443 h:allowed.test,ech`, want: "SERVERHELLO"},
	{name: "HTTP/2 prior knowledge", script: "curl -sS -m 10 --http2-prior-knowledge http://allowed.test/", absent: "hello from", event: "HTTP/2 with prior knowledge"},
	{name: "HTTP/2 prior knowledge, crafted", script: `$P allowed.test 80 's:PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'`, want: "CLOSED", event: "HTTP/2 with prior knowledge"},
	{name: "HTTP/2 by upgrade (h2c)", script: "curl -sS -m 10 --http2 http://allowed.test/", absent: "hello from", event: "only one to websocket"},
	{name: "HTTP/2 twin: curl over HTTP/1.1", script: "curl -sS -m 10 http://allowed.test/", want: "hello from allowed.test"},
	{name: "pipelined, second to another host", script: `$P allowed.test 80 's:GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\nGET / HTTP/1.1\r\nHost: evil.test\r\n` + closeHdr + `'`, want: "hello from allowed.test", absent: "hello from evil.test", event: "closed at request 2: a request naming evil.test"},
	{name: "pipelined twin", script: `$P allowed.test 80 's:GET /a HTTP/1.1\r\nHost: allowed.test\r\n\r\nGET /b HTTP/1.1\r\nHost: allowed.test\r\n` + closeHdr + `'`, want: "hello from allowed.testHTTP/1.1 200"},
	{name: "after a chunked body, another host", script: `$P allowed.test 80 's:POST / HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: evil.test\r\n` + closeHdr + `'`, want: "hello from allowed.test", absent: "hello from evil.test", event: "closed at request 2"},
	{name: "a request inside a chunked body twin", script: `$P allowed.test 80 's:POST / HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: chunked\r\n\r\n24\r\nGET /x HTTP/1.1\r\nHost: evil.test\r\n\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: allowed.test\r\n` + closeHdr + `'`, want: "hello from allowed.testHTTP/1.1 200", absent: "hello from evil.test"},
	{name: "HTTPS to the allowed name", script: "curl -sSk -m 10 https://allowed.test/", want: "hello from allowed.test"},
	{name: "raw port stays raw", script: "$P allowed.test 2222", want: rawBanner},
	{name: "raw port stays raw, whatever is sent", script: `$P allowed.test 2222 's:GET / HTTP/1.1\r\nHost: evil.test\r\n\r\n'`, want: rawBanner},
}

func testEgressNames(t *testing.T, unprivileged bool) {
	r := newRunner(t, unprivileged)
	if unprivileged {
		usableTUN(t)
	}
	f := newFakeInternet(t)
	r.netns, r.resolv = f.client, f.resolv
	profile := filepath.Join(r.home, "names.yaml")
	if err := os.WriteFile(profile, []byte(namesProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(r.ws, "nameprobe.py")
	writeOwned(t, r, probe, nameProbe)
	eventsFile := filepath.Join(r.ws, "events.jsonl")
	for _, tc := range nameCases {
		t.Run(tc.name, func(t *testing.T) {
			script := strings.ReplaceAll(tc.script, "$P", "python3 "+probe)
			res := r.run(t, "--profile", profile, "--events", eventsFile, "--", "sh", "-c", script)
			out := res.stdout + res.stderr
			if tc.want != "" && !strings.Contains(out, tc.want) {
				t.Errorf("want %q in the output, got %s", tc.want, res)
			}
			if tc.absent != "" && strings.Contains(out, tc.absent) {
				t.Errorf("%q got through: %s", tc.absent, res)
			}
		})
	}
	b, err := os.ReadFile(eventsFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range nameCases {
		if tc.event != "" && !deniedFlowWith(string(b), tc.event) {
			t.Errorf("%s: no denied flow event with %q", tc.name, tc.event)
		}
	}
}

// deniedFlowWith reports whether a JSONL event log holds a denied event whose line says
// reason.
func deniedFlowWith(log, reason string) bool {
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, `"verdict":"denied"`) && strings.Contains(line, reason) {
			return true
		}
	}
	return false
}

func TestEgressNamesAsRoot(t *testing.T)       { testEgressNames(t, false) }
func TestEgressNamesUnprivileged(t *testing.T) { testEgressNames(t, true) }
