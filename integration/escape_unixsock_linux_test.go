package integration

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/agentrun/agentrun/events"
)

// Host unix sockets: a service listening on a path the agent can see (~/.ssh, the workspace,
// ~, the host's /tmp in the degraded tier) is out of reach unless the profile names it in
// filesystem.sockets. Each attack aims at a listener of the test process that counts what
// reaches it; each twin reaches a socket the profile names, or one of the sandbox's own.

// hostListeners are the listeners one runner's setup started, by socket name.
type hostListeners struct {
	mu   sync.Mutex
	hits map[string]*atomic.Int64
}

var listenersOf sync.Map // *runner → *hostListeners

func (h *hostListeners) count(name string) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.hits[name]; ok {
		return c.Load()
	}
	return -1
}

// sockProfile names the sockets twins may use; the attacks' sockets it does not name. It reads
// the whole home, as a user's own profile may, so that the attacks' sockets are there to try.
const sockProfile = `name: sockets
extends: [base, git]
filesystem:
  read: ["~"]
  sockets: [~/.ssh/a.sock, ~/.ssh/okdg.sock]
`

// listen starts a listener (stream or datagram) at path, owned by the runner's user, that
// greets every connection and counts connections and datagrams.
func listen(t *testing.T, r *runner, h *hostListeners, path string, dgram bool) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	hits := new(atomic.Int64)
	h.mu.Lock()
	h.hits[filepath.Base(path)] = hits
	h.mu.Unlock()
	var closer func()
	if dgram {
		c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
		if err != nil {
			t.Fatal(err)
		}
		go countDatagrams(c, hits)
		closer = func() { c.Close() }
	} else {
		l, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		go greet(l, hits)
		closer = func() { l.Close() }
	}
	if r.unprivate {
		if err := os.Lchown(path, r.uid, r.gid); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		closer()
		os.Remove(path)
	})
}

// greet greets every connection to l, counting them in hits, until l is closed.
func greet(l net.Listener, hits *atomic.Int64) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		hits.Add(1)
		fmt.Fprintln(c, "hello from the host")
		c.Close()
	}
}

// countDatagrams counts in hits every datagram c receives, until c is closed.
func countDatagrams(c net.PacketConn, hits *atomic.Int64) {
	buf := make([]byte, 4096)
	for {
		if _, _, err := c.ReadFrom(buf); err != nil {
			return
		}
		hits.Add(1)
	}
}

// sockSetup starts the host's listeners and writes the profile that names the twins'.
func sockSetup(t *testing.T, r *runner) {
	h := &hostListeners{hits: map[string]*atomic.Int64{}}
	listenersOf.Store(r, h)
	ssh := filepath.Join(r.home, ".ssh")
	for _, p := range []string{filepath.Join(ssh, "x.sock"), filepath.Join(ssh, "a.sock"), filepath.Join(r.ws, "ws.sock"), filepath.Join(r.home, "home.sock")} {
		listen(t, r, h, p, false)
	}
	listen(t, r, h, filepath.Join(ssh, "dg.sock"), true)
	listen(t, r, h, filepath.Join(ssh, "okdg.sock"), true)
	writeOwned(t, r, filepath.Join(r.home, "sockets.yaml"), sockProfile)
}

// untouched is an after check: the listeners named got nothing.
func untouched(names ...string) func(*testing.T, *runner, result) error {
	return func(t *testing.T, r *runner, res result) error {
		v, _ := listenersOf.Load(r)
		h := v.(*hostListeners)
		for _, n := range names {
			if c := h.count(n); c != 0 {
				return fmt.Errorf("the host's %s got %d connections or datagrams: %s", n, c, res)
			}
		}
		return nil
	}
}

// pyConnect is a python3 script that connects to path and prints what the server says.
func pyConnect(path string) string {
	return `python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); print(s.recv(100).decode())' ` + path
}

func pySend(how, path string) string {
	send := `s.sendto(b"x", sys.argv[1])`
	if how == "sendmsg" {
		send = `s.sendmsg([b"x"], [], 0, sys.argv[1])`
	}
	return `python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); ` + send + `; print("sent")' ` + path
}

// racer flips the address a connect reads between the allowed a.sock and the host's x.sock
// from a second thread, while the first connects again and again.
const racer = `python3 - "$HOME/.ssh" <<'EOF'
import ctypes, os, socket, sys, threading
libc = ctypes.CDLL(None, use_errno=True)
d = sys.argv[1].encode()
a, x = d + b"/a.sock", d + b"/x.sock"
class SA(ctypes.Structure):
    _fields_ = [("family", ctypes.c_ushort), ("path", ctypes.c_char * 108)]
sa = SA(socket.AF_UNIX, a)
stop = False
def flip():
    while not stop:
        sa.path = x
        sa.path = a
t = threading.Thread(target=flip); t.start()
for i in range(300):
    s = socket.socket(socket.AF_UNIX)
    libc.connect(s.fileno(), ctypes.byref(sa), ctypes.sizeof(sa))
    s.close()
stop = True; t.join()
print("raced")
EOF`

func init() {
	named := pyConnect("$HOME/.ssh/a.sock")
	full := asRoot | asUser
	escapeAttempts = append(escapeAttempts,
		escapeAttempt{
			class: "unix socket", name: "connect to a socket in ~/.ssh (python)", profile: "sockets.yaml", setup: sockSetup,
			attack: pyConnect("$HOME/.ssh/x.sock"), want: "Permission denied", after: untouched("x.sock"),
			control: named, controlWant: "hello from the host",
		},
		escapeAttempt{
			class: "unix socket", name: "connect to a socket in ~/.ssh (perl)", profile: "sockets.yaml", setup: sockSetup,
			attack:  `perl -MIO::Socket::UNIX -e '$s = IO::Socket::UNIX->new(Peer => "$ENV{HOME}/.ssh/x.sock") or die "connect: $!\n"; print <$s>'`,
			want:    "Permission denied",
			after:   untouched("x.sock"),
			control: `perl -MIO::Socket::UNIX -e '$s = IO::Socket::UNIX->new(Peer => "$ENV{HOME}/.ssh/a.sock") or die "connect: $!\n"; print <$s>'`, controlWant: "hello from the host",
		},
		escapeAttempt{
			class: "unix socket", name: "relative path from the socket's directory", profile: "sockets.yaml", setup: sockSetup,
			attack: "cd ~/.ssh && " + pyConnect("x.sock"), want: "Permission denied", after: untouched("x.sock"),
			control: "cd ~/.ssh && " + pyConnect("a.sock"), controlWant: "hello from the host",
		},
		escapeAttempt{
			class: "unix socket", name: "through a symlink the agent makes", profile: "sockets.yaml", setup: sockSetup,
			attack: `d=$(mktemp -d) && ln -s ~/.ssh/x.sock $d/l.sock && ` + pyConnect("$d/l.sock"), want: "Permission denied", after: untouched("x.sock"),
			control: `d=$(mktemp -d) && ln -s ~/.ssh/a.sock $d/l.sock && ` + pyConnect("$d/l.sock"), controlWant: "hello from the host",
		},
		escapeAttempt{
			class: "unix socket", name: "through /proc/self/root", profile: "sockets.yaml", setup: sockSetup,
			attack: pyConnect("/proc/self/root$HOME/.ssh/x.sock"), after: untouched("x.sock"),
			control: named, controlWant: "hello from the host",
		},
		escapeAttempt{
			class: "unix socket", name: "through /proc/PID/root", profile: "sockets.yaml", setup: sockSetup,
			attack: `python3 -c 'import os,socket; s=socket.socket(socket.AF_UNIX); s.connect("/proc/%d/root%s/.ssh/x.sock" % (os.getpid(), os.environ["HOME"]))'`,
			want:   "Permission denied", after: untouched("x.sock"),
			control: named, controlWant: "hello from the host",
		},
		escapeAttempt{
			class: "unix socket", name: "a socket in the workspace", profile: "sockets.yaml", setup: sockSetup,
			attack: pyConnect("ws.sock"), want: "Permission denied", after: untouched("ws.sock"),
			control: named, controlWant: "hello from the host",
		},
		escapeAttempt{
			class: "unix socket", name: "a socket in ~", profile: "sockets.yaml", setup: sockSetup,
			attack: pyConnect("$HOME/home.sock"), want: "Permission denied", after: untouched("home.sock"),
			control: named, controlWant: "hello from the host",
		},
		escapeAttempt{
			class: "unix socket", name: "sendto a datagram socket", profile: "sockets.yaml", setup: sockSetup,
			attack: pySend("sendto", "$HOME/.ssh/dg.sock"), want: "Permission denied", after: untouched("dg.sock"),
			control: pySend("sendto", "$HOME/.ssh/okdg.sock"), controlWant: "sent",
		},
		escapeAttempt{
			class: "unix socket", name: "sendmsg to a datagram socket", profile: "sockets.yaml", setup: sockSetup,
			attack: pySend("sendmsg", "$HOME/.ssh/dg.sock"), want: "Permission denied", after: untouched("dg.sock"),
			control: pySend("sendmsg", "$HOME/.ssh/okdg.sock"), controlWant: "sent",
		},
		escapeAttempt{
			class: "unix socket", name: "a second thread rewrites the address", profile: "sockets.yaml", setup: sockSetup,
			attack: racer,
			held: func(r *runner, res result) error {
				if !strings.Contains(res.stdout, "raced") {
					return fmt.Errorf("the race did not run: %s", res)
				}
				return nil
			},
			after:   untouched("x.sock"),
			control: named, controlWant: "hello from the host",
		},
		escapeAttempt{
			class: "unix socket", name: "in-sandbox sockets work, the host's do not (full tier)", where: full, profile: "sockets.yaml", setup: sockSetup,
			attack: pyConnect("$HOME/.ssh/x.sock"), want: "Permission denied", after: untouched("x.sock"),
			control: `python3 - <<'EOF'
import socket, os
srv = socket.socket(socket.AF_UNIX); srv.bind("/tmp/in.sock"); srv.listen(1)
c = socket.socket(socket.AF_UNIX); c.connect("/tmp/in.sock"); a, _ = srv.accept(); c.send(b"1"); assert a.recv(1) == b"1"
os.chdir("/tmp"); c2 = socket.socket(socket.AF_UNIX); c2.connect("in.sock")
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d.bind("/dev/shm/d.sock")
e = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); e.sendto(b"2", "/dev/shm/d.sock"); e.sendmsg([b"3"], [], 0, "/dev/shm/d.sock")
assert d.recv(1) == b"2" and d.recv(1) == b"3"
ab = socket.socket(socket.AF_UNIX); ab.bind("\0agentrun-twin"); ab.listen(1)
c3 = socket.socket(socket.AF_UNIX); c3.connect("\0agentrun-twin")
p, q = socket.socketpair(); p.send(b"4"); assert q.recv(1) == b"4"
t = socket.socket(); t.bind(("127.0.0.1", 0)); t.listen(1)
u = socket.socket(); u.connect(t.getsockname())
print("all twins")
EOF`, controlWant: "all twins",
		},
	)
	if _, err := exec.LookPath("ssh-agent"); err == nil {
		escapeAttempts = append(escapeAttempts, escapeAttempt{
			class: "unix socket", name: "ssh-add -L against the user's ssh-agent", profile: "agent.yaml", setup: sshAgentSetup,
			// ssh-agent answers only its own uid (and root): when agentrun runs as root, the
			// agent's uid is not root's, so the twin keeps it root; the gate refuses the
			// unnamed socket whoever the agent is.
			env:     []string{"AGENTRUN_AS_ROOT=1"},
			attack:  `SSH_AUTH_SOCK=$HOME/.ssh/agent.sock ssh-add -L`,
			want:    "Permission denied",
			control: `SSH_AUTH_SOCK=$HOME/.ssh/ok-agent.sock ssh-add -L; echo "exit $?"`, controlWant: "The agent has no identities",
		})
	}
	if _, err := exec.LookPath("tmux"); err == nil {
		escapeAttempts = append(escapeAttempts, escapeAttempt{
			class: "unix socket", name: "tmux send-keys to the user's tmux server", where: asDegraded, profile: "tmux.yaml", setup: tmuxSetup,
			attack: `tmux -S /tmp/tmux-$(id -u)/default send-keys -t agentrun-victim "touch $HOME/tmux-escaped" Enter`,
			want:   "Permission denied",
			after: func(t *testing.T, r *runner, res result) error {
				if _, err := os.Stat(filepath.Join(r.home, "tmux-escaped")); err == nil {
					return errors.New("a command typed through the host's tmux ran outside the sandbox")
				}
				return nil
			},
			control: `tmux -S $HOME/ok-tmux.sock list-sessions`, controlWant: "agentrun-ok",
		})
	}
}

// asUserCmd runs argv as the runner's user.
func asUserCmd(r *runner, argv ...string) *exec.Cmd {
	if r.unprivate {
		argv = append([]string{"setpriv", "--reuid", strconv.Itoa(r.uid), "--regid", strconv.Itoa(r.gid), "--init-groups", "--"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{"HOME=" + r.home, "PATH=/usr/bin:/bin"}
	return cmd
}

// sshAgentSetup starts two real ssh-agents as the runner's user: the user's (which the
// profile does not name) and one the profile names.
func sshAgentSetup(t *testing.T, r *runner) {
	for _, name := range []string{"agent.sock", "ok-agent.sock"} {
		sock := filepath.Join(r.home, ".ssh", name)
		out, err := asUserCmd(r, "ssh-agent", "-a", sock, "-s").Output()
		if err != nil {
			t.Fatalf("starting ssh-agent: %v", err)
		}
		pid := 0
		for _, f := range strings.FieldsFunc(string(out), func(c rune) bool { return c == ';' || c == '\n' }) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(f), "SSH_AGENT_PID="); ok {
				pid, _ = strconv.Atoi(v)
			}
		}
		if pid <= 0 {
			t.Fatalf("ssh-agent said no pid: %s", out)
		}
		t.Cleanup(func() {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill()
			}
			os.Remove(sock)
		})
	}
	writeOwned(t, r, filepath.Join(r.home, "agent.yaml"), "name: agent\nextends: [base, git]\nfilesystem:\n  read: [\"~\"]\n  sockets: [~/.ssh/ok-agent.sock]\n")
}

// tmuxSetup starts the user's tmux server at its default socket in the host's /tmp, and one
// at a socket the profile names.
func tmuxSetup(t *testing.T, r *runner) {
	uid := strconv.Itoa(r.uid)
	dir := "/tmp/tmux-" + uid
	if _, err := os.Lstat(dir); err != nil {
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, r.uid, r.gid); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(dir) })
	}
	for _, s := range []struct{ sock, session string }{
		{"/tmp/tmux-" + uid + "/default", "agentrun-victim"},
		{filepath.Join(r.home, "ok-tmux.sock"), "agentrun-ok"},
	} {
		sock := s.sock
		if existing, err := os.Lstat(sock); err == nil && existing.Mode()&os.ModeSocket != 0 {
			t.Skipf("a tmux server of %s already runs at %s", r.name, sock)
		}
		if out, err := asUserCmd(r, "tmux", "-S", sock, "new-session", "-d", "-s", s.session, "sh").CombinedOutput(); err != nil {
			t.Fatalf("starting tmux: %v: %s", err, out)
		}
		t.Cleanup(func() {
			_ = asUserCmd(r, "tmux", "-S", sock, "kill-server").Run()
			os.Remove(sock)
		})
	}
	t.Cleanup(func() { os.Remove(filepath.Join(r.home, "tmux-escaped")) })
	writeOwned(t, r, filepath.Join(r.home, "tmux.yaml"), "name: tmux\nextends: [base, git]\nfilesystem:\n  read: [\"~\"]\n  sockets: [~/ok-tmux.sock]\n")
}

// TestUnixSocketEvents: a connect to a host socket the profile does not name is a denied
// socket event with its rule and process in enforce mode; in audit mode it goes through and is
// recorded as would-deny.
func TestUnixSocketEvents(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mode    string
		code    int
		verdict events.Verdict
		hits    int64
	}{
		{"enforce as a user", "enforce", 1, events.Denied, 0},
		{"audit as root", "audit", 0, events.WouldDeny, 1}, // audit's network needs a TUN device the test user cannot open
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRunner(t, tc.mode == "enforce")
			sockSetup(t, r)
			res := r.run(t, "--profile", filepath.Join(r.home, "sockets.yaml"), "--network", "none", "--mode", tc.mode, "--", "sh", "-c", pyConnect("$HOME/.ssh/x.sock"))
			if res.code != tc.code {
				t.Fatalf("want exit %d: %s", tc.code, res)
			}
			v, _ := listenersOf.Load(r)
			if got := v.(*hostListeners).count("x.sock"); got != tc.hits {
				t.Errorf("the host's socket got %d connections, want %d", got, tc.hits)
			}
			want := filepath.Join(r.home, ".ssh", "x.sock")
			for _, e := range storedEvents(t, r, "--run", runID(t, res)) {
				if e.Kind == events.KindSocket && e.Path == want {
					if e.Verdict != tc.verdict || e.Op != "connect" || e.Rule != "filesystem.sockets" || !strings.Contains(e.Process, "python3") {
						t.Errorf("the event says %+v", e)
					}
					return
				}
			}
			t.Errorf("no socket event for %s", want)
		})
	}
}
