package integration

import (
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"testing"
)

// Abstract unix sockets have no file, so neither the mounts nor Landlock's path rules see
// them, and the kernel checks no permission on a connect: any process of the network
// namespace reaches any listener, root's included (X11's, D-Bus's, a container runtime's).
// In the namespaced tiers the sandbox has a network namespace of its own; in the Landlock +
// seccomp tier, which shares the host's, the socket gate refuses every abstract connect (it
// would make the call outside Landlock's scoping, which keeps the agent to its own).

// abstractName is the host's abstract listener for this test process ("@" is the leading
// NUL).
var abstractName = fmt.Sprintf("agentrun-escape-%d", os.Getpid())

// abstractSetup starts, in the test's own (the host's) network namespace, a stream listener on
// the abstract name and a datagram socket on the name with "-dg", counting what reaches them
// under "abstract" and "abstract-dg" for untouched.
func abstractSetup(t *testing.T, r *runner) {
	h := &hostListeners{hits: map[string]*atomic.Int64{"abstract": new(atomic.Int64), "abstract-dg": new(atomic.Int64)}}
	listenersOf.Store(r, h)
	l, err := net.Listen("unix", "@"+abstractName)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go greet(l, h.hits["abstract"])
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: "@" + abstractName + "-dg", Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go countDatagrams(c, h.hits["abstract-dg"])
}

func init() {
	connect := `python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect("\0" + sys.argv[1]); print(s.recv(100).decode())' ` + abstractName
	// The way around a refused connect: a datagram, which needs none.
	send := `python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b"x", "\0" + sys.argv[1]); print("sent")' ` + abstractName + "-dg"
	// The sandbox's own abstract sockets work where it has a network namespace of its own.
	ownTwin := `python3 - <<'EOF'
import socket
srv = socket.socket(socket.AF_UNIX); srv.bind("\0agentrun-twin"); srv.listen(1)
c = socket.socket(socket.AF_UNIX); c.connect("\0agentrun-twin"); a, _ = srv.accept(); c.send(b"1"); assert a.recv(1) == b"1"
print("abstract twin")
EOF`
	// Without one, the agent's abstract connects and sends are refused whoever listens (see
	// the socket gate's unnamed): the twin is a socket pair.
	pairTwin := `python3 -c 'import socket; p, q = socket.socketpair(); p.send(b"1"); assert q.recv(1) == b"1"; print("pair twin")'`
	for _, a := range []struct {
		name, attack, listener string
	}{
		{"connect to the host's abstract socket", connect, "abstract"},
		{"send a datagram to the host's abstract socket", send, "abstract-dg"},
	} {
		escapeAttempts = append(escapeAttempts,
			escapeAttempt{
				class: "unix socket", name: a.name, where: asRoot | asUser, setup: abstractSetup,
				attack: a.attack, after: untouched(a.listener),
				control: ownTwin, controlWant: "abstract twin",
			},
			escapeAttempt{
				class: "unix socket", name: a.name + " (Landlock + seccomp tier)", where: asDegraded, setup: abstractSetup,
				attack: a.attack, after: untouched(a.listener),
				control: pairTwin, controlWant: "pair twin",
			},
		)
	}
}
