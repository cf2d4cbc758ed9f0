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

// abstractSetup starts a listener on the abstract name in the test's own (the host's)
// network namespace, counting connections under "abstract" for untouched.
func abstractSetup(t *testing.T, r *runner) {
	h := &hostListeners{hits: map[string]*atomic.Int64{}}
	hits := new(atomic.Int64)
	h.hits["abstract"] = hits
	listenersOf.Store(r, h)
	l, err := net.Listen("unix", "@"+abstractName)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			hits.Add(1)
			fmt.Fprintln(c, "hello from the host")
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close() })
}

func init() {
	attack := `python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect("\0" + sys.argv[1]); print(s.recv(100).decode())' ` + abstractName
	escapeAttempts = append(escapeAttempts,
		escapeAttempt{
			class: "unix socket", name: "connect to the host's abstract socket", where: asRoot | asUser, setup: abstractSetup,
			attack: attack, after: untouched("abstract"),
			// The sandbox's own abstract sockets work: its network namespace has them.
			control: `python3 - <<'EOF'
import socket
srv = socket.socket(socket.AF_UNIX); srv.bind("\0agentrun-twin"); srv.listen(1)
c = socket.socket(socket.AF_UNIX); c.connect("\0agentrun-twin"); a, _ = srv.accept(); c.send(b"1"); assert a.recv(1) == b"1"
print("abstract twin")
EOF`, controlWant: "abstract twin",
		},
		escapeAttempt{
			// Without a network namespace of its own, the agent's abstract connects are
			// refused whoever listens (see the socket gate's unnamed): the twin is a pair.
			class: "unix socket", name: "connect to the host's abstract socket (Landlock + seccomp tier)", where: asDegraded, setup: abstractSetup,
			attack: attack, after: untouched("abstract"),
			control: `python3 -c 'import socket; p, q = socket.socketpair(); p.send(b"1"); assert q.recv(1) == b"1"; print("pair twin")'`, controlWant: "pair twin",
		},
	)
}
