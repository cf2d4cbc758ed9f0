package integration

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Raw system calls with the upper half of 32-bit arguments set, programs run around the
// exec rules, sockets Landlock does not govern in the Landlock + seccomp tier, and the stage's
// own memory. Each attack is a raw system call (perl's syscall, python's ctypes), so what
// the kernel sees is what the test says.

// perlSys runs one raw system call in perl and prints "LABEL: ERROR" when it fails, "LABEL
// ok" when it succeeds; it exits 1 on failure.
func perlSys(label, call string) string {
	return fmt.Sprintf(`perl -e '$r = %s; if ($r < 0) { print "%s: $!\n"; exit 1 } print "%s ok\n"'`, call, label, label)
}

const hiBit = "(1<<32)" // a bit the kernel drops from an int argument

// x86-64 system call numbers.
const (
	sysIoctl       = 16
	sysSocket      = 41
	sysPersonality = 135
	sysUnshare     = 272
)

func init() {
	sock := func(args string) string { return fmt.Sprintf("syscall(%d, %s)", sysSocket, args) }
	ioctl := func(req string) string { return fmt.Sprintf(`syscall(%d, 0, %s, my $b = "x" x 64)`, sysIoctl, req) }
	escapeAttempts = append(escapeAttempts,
		escapeAttempt{
			class: "high bits", name: "vsock socket, family with a high bit",
			attack: perlSys("vsock", sock("40|"+hiBit+", 1, 0")), want: "vsock: Operation not permitted",
			control: perlSys("unix", sock("1|"+hiBit+", 1, 0")), controlWant: "unix ok",
		},
		escapeAttempt{
			class: "high bits", name: "vsock socket, every upper bit",
			attack: perlSys("vsock", sock("40|0xffffffff00000000, 1|"+hiBit+", 0")), want: "vsock: Operation not permitted",
			control: perlSys("inet", sock("2|0xffffffff00000000, 1, 0")), controlWant: "inet ok",
		},
		escapeAttempt{
			class: "high bits", name: "netlink audit, protocol with a high bit",
			attack: perlSys("audit", sock("16, 3, 9|"+hiBit)), want: "audit: Operation not permitted",
			control: perlSys("route", sock("16, 3, 0|"+hiBit)), controlWant: "route ok",
		},
		escapeAttempt{
			class: "high bits", name: "netlink uevents, family with a high bit",
			attack: perlSys("uevent", sock("16|"+hiBit+", 2, 15")), want: "uevent: Operation not permitted",
			control: perlSys("route", sock("16|"+hiBit+", 3, 0")), controlWant: "route ok",
		},
		escapeAttempt{
			class: "high bits", name: "TIOCSTI with a high bit",
			attack: perlSys("tiocsti", ioctl("0x5412|"+hiBit)) + "; exit 1", want: "tiocsti: Operation not permitted",
			control: perlSys("winsz", ioctl("0x5413|"+hiBit)) + "; exit 0", controlWant: "winsz: Inappropriate ioctl for device",
		},
		escapeAttempt{
			class: "high bits", name: "TIOCLINUX with every upper bit",
			attack: perlSys("tioclinux", ioctl("0x541c|0xffffffff00000000")) + "; exit 1", want: "tioclinux: Operation not permitted",
			control: perlSys("winsz", ioctl("0x5413|0xffffffff00000000")) + "; exit 0", controlWant: "winsz: Inappropriate ioctl for device",
		},
		escapeAttempt{
			class: "high bits", name: "personality ADDR_NO_RANDOMIZE with a high bit",
			attack: perlSys("personality", fmt.Sprintf("syscall(%d, 0x0040000|%s)", sysPersonality, hiBit)), want: "personality: Operation not permitted",
			control: perlSys("personality", fmt.Sprintf("syscall(%d, 0|%s)", sysPersonality, hiBit)), controlWant: "personality ok",
		},
		escapeAttempt{
			class: "high bits", name: "personality READ_IMPLIES_EXEC with a high bit",
			attack: perlSys("personality", fmt.Sprintf("syscall(%d, 0x0400000|%s)", sysPersonality, hiBit)), want: "personality: Operation not permitted",
			control: perlSys("personality", fmt.Sprintf("syscall(%d, 8)", sysPersonality)), controlWant: "personality ok",
		},
		escapeAttempt{
			class: "high bits", name: "unshare CLONE_NEWUSER with a high bit",
			attack: perlSys("unshare", fmt.Sprintf("syscall(%d, 0x10000000|%s)", sysUnshare, hiBit)), want: "unshare: Operation not permitted",
			control: perlSys("unshare", fmt.Sprintf("syscall(%d, 0)", sysUnshare)), controlWant: "unshare ok",
		},
		escapeAttempt{
			class: "high bits", name: "MPTCP socket, protocol with a high bit",
			attack: perlSys("mptcp", sock("2, 1, 262|"+hiBit)), want: "mptcp: Protocol not supported",
			control: perlSys("tcp", sock("2, 1, 6")), controlWant: "tcp ok",
		},
	)
}

// pyMemfd creates a memfd with flags holding /usr/bin/true and then does what run says:
// "execveat" (fexecve), "proc" (execve of /proc/self/fd/N after chmod +x) or "read".
func pyMemfd(flags int, run string) string {
	return fmt.Sprintf(`python3 - <<'EOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.memfd_create(b"x", %d)
if fd < 0:
    print("memfd_create:", os.strerror(ctypes.get_errno())); sys.exit(1)
os.write(fd, open("/usr/bin/true", "rb").read())
how = %q
if how == "read":
    print("memfd ok", os.lseek(fd, 0, 1) > 0); sys.exit(0)
if how == "proc":
    try:
        os.fchmod(fd, 0o755)
    except OSError as e:
        print("fchmod:", e)
    try:
        os.execv("/proc/self/fd/%%d" %% fd, ["x"])
    except OSError as e:
        print("exec:", e); sys.exit(1)
libc.syscall(322, fd, b"", None, None, 0x1000)
print("execveat:", os.strerror(ctypes.get_errno())); sys.exit(1)
EOF`, flags, run)
}

const (
	ldso          = "/lib64/ld-linux-x86-64.so.2"
	mfdNoexecSeal = 0x8
	mfdExec       = 0x10
)

// execDenyProfile is a test profile that names a program exec.deny forbids.
const execDenyProfile = `name: execdeny
extends: [base, git]
exec:
  deny: [/usr/bin/curl]
`

// noteTmpdir writes the agent's $TMPDIR (a write root outside exec.allow) to the
// workspace's tmpdir file: the test profile does not pass TMPDIR itself.
func noteTmpdir(t *testing.T, r *runner) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(r.ws, "tmpdir"), []byte(r.tmp), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(r.tmp, 0o1777); err != nil { // the umask took the others' write bit
		t.Fatal(err)
	}
}

func writeExecDenyProfile(t *testing.T, r *runner) {
	t.Helper()
	p := filepath.Join(r.home, "execdeny.yaml")
	if err := os.WriteFile(p, []byte(execDenyProfile), 0o644); err != nil {
		t.Fatal(err)
	}
}

func init() {
	full := asRoot | asUser
	escapeAttempts = append(escapeAttempts,
		escapeAttempt{
			class: "exec", name: "memfd with execveat (fexecve)",
			attack: pyMemfd(0, "execveat"), want: "memfd_create: Function not implemented",
			control: pyMemfd(mfdNoexecSeal, "read"), controlWant: "memfd ok True",
		},
		escapeAttempt{
			class: "exec", name: "memfd with MFD_EXEC through /proc/self/fd",
			attack: pyMemfd(mfdExec, "proc"), want: "memfd_create: Function not implemented",
			control: pyMemfd(mfdNoexecSeal, "read"), controlWant: "memfd ok True",
		},
		escapeAttempt{
			class: "exec", name: "sealed memfd made executable through /proc/self/fd",
			attack: pyMemfd(mfdNoexecSeal, "proc"), want: "Permission denied",
			control: pyMemfd(mfdNoexecSeal, "read"), controlWant: "memfd ok True",
		},
		escapeAttempt{
			class: "exec", name: "sealed memfd with execveat",
			attack: pyMemfd(mfdNoexecSeal, "execveat"), want: "execveat: Permission denied",
			control: pyMemfd(mfdNoexecSeal, "read"), controlWant: "memfd ok True",
		},
		escapeAttempt{
			class: "exec", name: "direct exec of a file written to /tmp",
			// In the Landlock + seccomp tier /tmp is the host's: the file must not stay there.
			attack:  "cp /usr/bin/true /tmp/x && chmod +x /tmp/x && { /tmp/x; r=$?; rm -f /tmp/x; exit $r; }",
			want:    "Permission denied",
			control: "cp /usr/bin/true ./x && chmod +x ./x && ./x && echo ran", controlWant: "ran",
		},
		escapeAttempt{
			class: "exec", name: "direct exec of a file written to $TMPDIR",
			setup:   noteTmpdir,
			attack:  `d=$(cat tmpdir) && cp /usr/bin/true "$d/x" && chmod +x "$d/x" && echo "written in $d" >&2 && "$d/x"`,
			want:    "Permission denied",
			control: "mkdir -p bin && cp /usr/bin/true bin/x && bin/x && echo ran", controlWant: "ran",
		},
		escapeAttempt{
			class: "exec", name: "ld.so on a file written to /tmp", where: full,
			attack:  "cp /usr/bin/true /tmp/x && " + ldso + " /tmp/x",
			want:    "failed to map segment",
			control: ldso + " /usr/bin/true && echo ran", controlWant: "ran",
		},
		escapeAttempt{
			class: "exec", name: "ld.so on a file written to $TMPDIR", where: full,
			setup:   noteTmpdir,
			attack:  `d=$(cat tmpdir) && cp /usr/bin/true "$d/x" && ` + ldso + ` "$d/x"`,
			want:    "failed to map segment",
			control: "cp /usr/bin/true ./x && " + ldso + " ./x && echo ran", controlWant: "ran",
		},
		escapeAttempt{
			class: "exec", name: "dlopen of a library written to /tmp", where: full,
			attack:  `cp /usr/lib/x86_64-linux-gnu/libz.so.1 /tmp/l.so && python3 -c 'import ctypes; ctypes.CDLL("/tmp/l.so")'`,
			want:    "failed to map segment",
			control: `cp /usr/lib/x86_64-linux-gnu/libz.so.1 ./l.so && python3 -c 'import ctypes; ctypes.CDLL("./l.so"); print("loaded")'`, controlWant: "loaded",
		},
		escapeAttempt{
			class: "exec", name: "LD_PRELOAD of a library written to /tmp", where: full,
			attack:  `cp /usr/lib/x86_64-linux-gnu/libz.so.1 /tmp/l.so && out=$(LD_PRELOAD=/tmp/l.so /usr/bin/true 2>&1); echo "$out"; case "$out" in *"cannot be preloaded"*) exit 1;; esac`,
			want:    "failed to map segment",
			control: `cp /usr/lib/x86_64-linux-gnu/libz.so.1 ./l.so && LD_PRELOAD=$PWD/l.so /usr/bin/true && echo ran`, controlWant: "ran",
		},
		escapeAttempt{
			class: "exec", name: "exec.deny: the program itself", where: full, profile: "execdeny.yaml",
			setup:  writeExecDenyProfile,
			attack: "curl --version", want: "Permission denied",
			control: "git --version", controlWant: "git version",
		},
		escapeAttempt{
			class: "exec", name: "exec.deny: through ld.so", where: full, profile: "execdeny.yaml",
			setup:  writeExecDenyProfile,
			attack: ldso + " /usr/bin/curl --version", want: "failed to map segment",
			control: ldso + " /usr/bin/git --version", controlWant: "git version",
		},
		escapeAttempt{
			class: "exec", name: "exec.deny: through a symlink in the workspace", where: full, profile: "execdeny.yaml",
			setup:  writeExecDenyProfile,
			attack: "ln -s /usr/bin/curl ./c && ./c --version", want: "Permission denied",
			control: "ln -s /usr/bin/git ./g && ./g --version", controlWant: "git version",
		},
		escapeAttempt{
			class: "exec", name: "exec.deny: still readable, not runnable from a copy in $TMPDIR", where: full, profile: "execdeny.yaml",
			setup:  func(t *testing.T, r *runner) { writeExecDenyProfile(t, r); noteTmpdir(t, r) },
			attack: `d=$(cat tmpdir) && cp /usr/bin/curl "$d/c" && ` + ldso + ` "$d/c" --version`, want: "failed to map segment",
			control: "cmp -s /usr/bin/curl /usr/bin/curl && echo readable", controlWant: "readable",
		},
		escapeAttempt{
			class: "exec", name: "exec.deny refused by the Landlock + seccomp tier", where: asDegraded, profile: "execdeny.yaml",
			setup:  writeExecDenyProfile,
			attack: "curl --version",
			held: func(r *runner, res result) error {
				if res.code != 125 || !strings.Contains(res.stderr, "exec.deny (/usr/bin/curl) cannot be enforced") {
					return fmt.Errorf("want the launch refused naming exec.deny: %s", res)
				}
				return nil
			},
			// The twin, under the runner's profile (without exec.deny) in the same tier.
			after: func(t *testing.T, r *runner, _ result) error {
				res := r.run(t, "--profile", r.profile, "--network", "none", "--allow-degraded", "--allow-unprotected", "--", "sh", "-c", "curl --version >/dev/null && echo ran")
				if res.code != 0 || !strings.Contains(res.stdout, "ran") {
					t.Errorf("the allowed twin failed: %s", res)
				}
				return nil
			},
		},
	)
}

// listenLoopback opens a listener of network ("tcp" or "udp") on the host's 127.0.0.1 and
// writes its port to the workspace's port file, for the attack to read; whatever reaches it
// is an escape, which the returned check reports after the run.
func listenLoopback(network string) func(t *testing.T, r *runner) {
	return func(t *testing.T, r *runner) {
		t.Helper()
		var port int
		switch network {
		case "tcp":
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			port = l.Addr().(*net.TCPAddr).Port
		case "udp":
			c, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			port = c.LocalAddr().(*net.UDPAddr).Port
		}
		if err := os.WriteFile(filepath.Join(r.ws, "port"), []byte(strconv.Itoa(port)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// pySock makes a socket of family, type and protocol and sends to the host's 127.0.0.1 at
// the port in ./port: connect then send for a stream, sendto otherwise.
func pySock(family, typ, proto string) string {
	return fmt.Sprintf(`python3 - <<'EOF'
import socket, sys
port = int(open("port").read())
try:
    s = socket.socket(socket.%s, socket.%s, %s)
    if s.type == socket.SOCK_STREAM:
        s.connect(("127.0.0.1", port)); s.send(b"x")
    else:
        s.sendto(b"x", ("127.0.0.1", port))
except OSError as e:
    print("socket:", e.strerror); sys.exit(1)
print("reached the host")
EOF`, family, typ, proto)
}

// tcpSocketOK is the twin of the tier's socket denials: a plain TCP socket is made (Landlock
// then governs its connects) and unix sockets work.
const tcpSocketOK = `python3 -c 'import socket; socket.socket(); a, b = socket.socketpair(); a.send(b"ok"); print("sockets", b.recv(2).decode())'`

func init() {
	escapeAttempts = append(escapeAttempts,
		escapeAttempt{
			class: "degraded net", name: "MPTCP to a host loopback listener", where: asDegraded,
			setup:  listenLoopback("tcp"),
			attack: pySock("AF_INET", "SOCK_STREAM", "262"), want: "socket: Protocol not supported",
			control: tcpSocketOK, controlWant: "sockets ok",
		},
		escapeAttempt{
			class: "degraded net", name: "plain TCP to a host loopback listener", where: asDegraded,
			setup:  listenLoopback("tcp"),
			attack: pySock("AF_INET", "SOCK_STREAM", "0"), want: "socket: Permission denied",
			control: tcpSocketOK, controlWant: "sockets ok",
		},
		escapeAttempt{
			class: "degraded net", name: "UDP to a host loopback listener", where: asDegraded,
			setup:  listenLoopback("udp"),
			attack: pySock("AF_INET", "SOCK_DGRAM", "0"), want: "socket: Permission denied",
			control: tcpSocketOK, controlWant: "sockets ok",
		},
		escapeAttempt{
			class: "degraded net", name: "UDP over IPv6 with a high bit in the family", where: asDegraded,
			setup:  listenLoopback("udp"),
			attack: perlSys("udp6", "syscall(41, 10|"+hiBit+", 2, 0)"), want: "udp6: Permission denied",
			control: tcpSocketOK, controlWant: "sockets ok",
		},
		escapeAttempt{
			class: "degraded net", name: "SCTP stream socket", where: asDegraded,
			setup:  listenLoopback("tcp"),
			attack: pySock("AF_INET", "SOCK_STREAM", "132"), want: "socket: Permission denied",
			control: tcpSocketOK, controlWant: "sockets ok",
		},
		escapeAttempt{
			class: "degraded net", name: "SCTP seqpacket socket", where: asDegraded,
			setup:  listenLoopback("tcp"),
			attack: pySock("AF_INET", "SOCK_SEQPACKET", "132"), want: "socket: Permission denied",
			control: tcpSocketOK, controlWant: "sockets ok",
		},
		escapeAttempt{
			class: "degraded net", name: "ICMP ping socket", where: asDegraded,
			setup:  listenLoopback("udp"),
			attack: pySock("AF_INET", "SOCK_DGRAM", "socket.IPPROTO_ICMP"), want: "socket: Permission denied",
			control: tcpSocketOK, controlWant: "sockets ok",
		},
		escapeAttempt{
			class: "degraded net", name: "TCP fast open to a host loopback listener", where: asDegraded,
			setup: listenLoopback("tcp"),
			attack: `python3 - <<'EOF'
import socket, sys
port = int(open("port").read())
s = socket.socket()
try:
    s.sendto(b"x", socket.MSG_FASTOPEN, ("127.0.0.1", port))
except OSError as e:
    print("fastopen:", e.strerror); sys.exit(1)
print("reached the host")
EOF`,
			want:    "fastopen:",
			control: tcpSocketOK, controlWant: "sockets ok",
		},
	)
	// The stage (PID 1 in the container, the agent's parent in every tier) runs as the
	// agent's uid: its memory, environment and descriptors must still be out of reach.
	escapeAttempts = append(escapeAttempts,
		escapeAttempt{
			class: "stage", name: "write the stage's memory",
			attack: `exec 3<>/proc/$PPID/mem`, want: "Permission denied",
			control: `exec 3<>/proc/self/mem && echo own`, controlWant: "own",
		},
		escapeAttempt{
			class: "stage", name: "read the stage's environment",
			attack: `cat /proc/$PPID/environ`, want: "Permission denied",
			control: `cat /proc/self/environ >/dev/null && grep -q Name /proc/self/status && echo own`, controlWant: "own",
		},
		escapeAttempt{
			class: "stage", name: "follow the stage's descriptors",
			attack: `ls -l /proc/$PPID/fd/`, want: "Permission denied",
			control: `ls -l /proc/self/fd/ >/dev/null && echo own`, controlWant: "own",
		},
		escapeAttempt{
			class: "stage", name: "read the stage's memory map",
			attack: `cat /proc/$PPID/maps | grep -q . || exit 1`, want: "Permission denied",
			control: `grep -q . /proc/self/maps && echo own`, controlWant: "own",
		},
	)
}
