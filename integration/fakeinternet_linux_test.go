package integration

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The fake internet: two network namespaces the test makes, joined by a veth pair. agentrun
// runs in the client one; the internet one has a DNS server, web servers and a fake cloud
// metadata service on 169.254.169.254, all served by this test binary. Nothing leaves the
// machine, and the host's own namespace sends nothing.
const (
	fakeInternetEnv = "AGENTRUN_TEST_FAKE_INTERNET" // the helper's DNS log file
	inetAddr        = "198.18.0.1"                  // the internet's servers
	clientAddr      = "198.18.0.2"                  // the machine agentrun runs on
	metadataAddr    = "169.254.169.254"
)

// fakeZone is the internet's DNS.
var fakeZone = map[string]string{
	"allowed.test.":         inetAddr,
	"evil.test.":            inetAddr,
	"secret.attacker.test.": inetAddr,
	"rebind.test.":          metadataAddr,
	// The model APIs the agents call (fakemodel serves them).
	"api.anthropic.com.":                 inetAddr,
	"api.openai.com.":                    inetAddr,
	"generativelanguage.googleapis.com.": inetAddr,
}

// modelHosts are the names whose requests the fake model API answers.
var modelHosts = map[string]bool{"api.anthropic.com": true, "api.openai.com": true, "generativelanguage.googleapis.com": true}

// maybeServeFakeInternet runs the servers when the test binary was started as the helper,
// in the internet namespace. It never returns then.
func maybeServeFakeInternet() {
	logPath := os.Getenv(fakeInternetEnv)
	if logPath == "" {
		return
	}
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var mu sync.Mutex
	dnsHandler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		q := req.Question[0]
		mu.Lock()
		fmt.Fprintf(logf, "%s %s\n", strings.ToLower(q.Name), dns.TypeToString[q.Qtype])
		mu.Unlock()
		resp := new(dns.Msg)
		resp.SetReply(req)
		if a, ok := fakeZone[strings.ToLower(q.Name)]; ok && q.Qtype == dns.TypeA {
			resp.Answer = append(resp.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP(a)})
		} else if !ok {
			resp.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(resp)
	})
	for _, network := range []string{"udp", "tcp"} {
		srv := &dns.Server{Addr: inetAddr + ":53", Net: network, Handler: dnsHandler}
		go func() { fmt.Fprintln(os.Stderr, srv.ListenAndServe()) }()
	}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "hello from %s", r.Host) })
	mux := http.NewServeMux()
	mux.Handle("/", hello)
	mux.HandleFunc("/bulk", bulk)
	if git, err := gitRepoHandler(filepath.Join(filepath.Dir(logPath), "git")); err == nil {
		mux.Handle("/repo.git/", git)
	} else {
		fmt.Fprintln(os.Stderr, "no git repository on the fake internet:", err)
	}
	model := &scriptedModel{dir: filepath.Dir(logPath)}
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if host, _, err := net.SplitHostPort(r.Host); modelHosts[r.Host] || err == nil && modelHosts[host] {
			model.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	https := httptest.NewUnstartedServer(root)
	l, err := net.Listen("tcp", inetAddr+":443")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	https.Listener = l
	cert, err := tls.LoadX509KeyPair(filepath.Join(filepath.Dir(logPath), fakeCertFile), filepath.Join(filepath.Dir(logPath), fakeKeyFile))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	https.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	https.StartTLS()
	go func() { fmt.Fprintln(os.Stderr, http.ListenAndServe(inetAddr+":80", root)) }()
	go serveRaw(inetAddr + rawPort)
	go func() {
		fmt.Fprintln(os.Stderr, http.ListenAndServe(metadataAddr+":80", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "metadata-secret-token")
		})))
	}()
	// Serve until the test kills us; exit on our own after a while so nothing can linger.
	time.Sleep(10 * time.Minute)
	os.Exit(0)
}

// rawPort is where the fake internet speaks first, as an SSH server does.
const rawPort = ":2222"

// rawBanner is what it says.
const rawBanner = "SSH-2.0-fake-internet"

func serveRaw(addr string) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		_, _ = fmt.Fprintf(c, "%s\r\n", rawBanner)
		_ = c.Close()
	}
}

// bulkSize is what /bulk sends, for the throughput benchmark.
const bulkSize = 256 << 20

func bulk(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Length", fmt.Sprint(bulkSize))
	buf := make([]byte, 1<<20)
	for sent := 0; sent < bulkSize; sent += len(buf) {
		if _, err := w.Write(buf); err != nil {
			return
		}
	}
}

// gitRepoHandler serves a repository with one commit over git's smart HTTP protocol, with
// git's own http-backend.
func gitRepoHandler(dir string) (http.Handler, error) {
	work := filepath.Join(dir, "work")
	for _, args := range [][]string{
		{"init", "-q", work},
		{"-C", work, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "from the fake internet"},
		{"clone", "-q", "--bare", work, filepath.Join(dir, "repo.git")},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("git %v: %v: %s", args, err, out)
		}
	}
	backend, err := exec.LookPath("git")
	if err != nil {
		return nil, err
	}
	return &cgi.Handler{
		Path: filepath.Join(filepath.Dir(backend), "..", "lib", "git-core", "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + dir, "GIT_HTTP_EXPORT_ALL=1"},
	}, nil
}

// fakeInternet is one test's pair of namespaces and its server.
type fakeInternet struct {
	client, inet string // namespace names
	dir          string // the servers' files: the DNS log, the certificates, the model's script
	dnsLog       string
	resolv       string // a resolv.conf naming the internet's DNS server
	server       *exec.Cmd
}

func run(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func newFakeInternet(t testing.TB) *fakeInternet {
	t.Helper()
	requireRoot(t)
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) is not installed; scripts/test.sh installs it")
	}
	id := fmt.Sprintf("%d", os.Getpid()%100000)
	dir := t.TempDir()
	writeFakeCA(t, dir)
	f := &fakeInternet{client: "arfake-c" + id, inet: "arfake-i" + id, dir: dir, dnsLog: filepath.Join(dir, "dns.log"), resolv: filepath.Join(dir, "resolv.conf")}
	t.Cleanup(f.remove)
	run(t, "ip", "netns", "add", f.client)
	run(t, "ip", "netns", "add", f.inet)
	run(t, "ip", "link", "add", "arv-c"+id, "netns", f.client, "type", "veth", "peer", "name", "arv-i"+id, "netns", f.inet)
	inet := func(args ...string) { run(t, append([]string{"ip", "netns", "exec", f.inet}, args...)...) }
	client := func(args ...string) { run(t, append([]string{"ip", "netns", "exec", f.client}, args...)...) }
	inet("ip", "link", "set", "lo", "up")
	inet("ip", "addr", "add", inetAddr+"/24", "dev", "arv-i"+id)
	inet("ip", "addr", "add", metadataAddr+"/32", "dev", "lo")
	inet("ip", "link", "set", "arv-i"+id, "up")
	client("ip", "link", "set", "lo", "up")
	client("ip", "addr", "add", clientAddr+"/24", "dev", "arv-c"+id)
	client("ip", "link", "set", "arv-c"+id, "up")
	client("ip", "route", "add", "default", "via", inetAddr)
	if err := os.WriteFile(f.resolv, []byte("nameserver "+inetAddr+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f.server = exec.Command("ip", "netns", "exec", f.inet, os.Args[0])
	f.server.Env = append(os.Environ(), fakeInternetEnv+"="+f.dnsLog)
	f.server.Stderr = os.Stderr
	if err := f.server.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the servers answer.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if exec.Command("ip", "netns", "exec", f.client, "bash", "-c", "exec 3<>/dev/tcp/"+inetAddr+"/443").Run() == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the fake internet did not come up")
		}
	}
	return f
}

func (f *fakeInternet) remove() {
	if f.server != nil && f.server.Process != nil {
		_ = f.server.Process.Kill()
		_ = f.server.Wait()
	}
	_ = exec.Command("ip", "netns", "del", f.client).Run()
	_ = exec.Command("ip", "netns", "del", f.inet).Run()
}

// checkAsked checks what an egress filter let reach the internet's DNS server: the names it
// must deny never, the allowed one at least once (else the test proved nothing).
func (f *fakeInternet) checkAsked(t *testing.T) {
	t.Helper()
	for _, name := range []string{"secret.attacker.test", "evil.test", "metadata.google.internal"} {
		if f.asked(name) {
			t.Errorf("%s reached the internet's DNS server", name)
		}
	}
	if !f.asked("allowed.test") {
		t.Error("allowed.test never reached the internet's DNS server; the test proves nothing")
	}
}

// asked reports whether the fake internet's DNS server was ever asked name.
func (f *fakeInternet) asked(name string) bool {
	b, _ := os.ReadFile(f.dnsLog)
	return strings.Contains(string(b), strings.ToLower(name)+".")
}
