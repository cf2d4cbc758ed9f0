package fileaudit

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/profiles"
)

// sockGate decides the sandbox's connects and sends to pathname unix sockets, which no other
// layer can: Landlock (up to ABI 7) does not see them and a read-only mount does not stop
// them. A socket in the sandbox's own /tmp or /dev/shm, or one the profile names in
// filesystem.sockets, is allowed; every other one is refused with EACCES and recorded
// (audit mode records it as would-deny and lets it through).
//
// The decision is never a check followed by SECCOMP_USER_NOTIF_FLAG_CONTINUE, which a second
// thread rewriting the address after the check would defeat: the gate copies the address
// once, takes the caller's socket (pidfd_getfd), resolves the path in the caller's view
// (agentView: openat2 in /proc/PID/root with RESOLVE_IN_ROOT), and makes the call itself on that socket,
// through the O_PATH descriptor of the very inode it judged, with the caller's credentials.
// The caller gets the call's result. Only calls whose outcome cannot depend on the address
// go on unchanged: any socket that is not AF_UNIX (a socket's family never changes), and
// sends on AF_UNIX stream and seqpacket sockets (the kernel rejects or ignores their address).
type sockGate struct {
	listener int
	// direct is the Landlock + seccomp tier: /tmp is the host's, nothing is private.
	direct bool
	audit  bool
	trace  bool
	named  map[fileID]profiles.PathRule // filesystem.sockets, stat'ed at launch
	// record takes a decided event (nil: none is kept).
	record   func(events.Event)
	procs    *procTable
	stagePid *atomic.Int64
	// asRoot: agentrun runs as root, so each call is made on a thread that took the
	// caller's credentials first (a root-owned 0660 socket checks SO_PEERCRED).
	asRoot bool
}

type fileID struct{ dev, ino uint64 }

// sockCalls are the system calls the gate serves, by number.
var sockCalls = map[uintptr]string{
	unix.SYS_CONNECT:  "connect",
	unix.SYS_SENDTO:   "sendto",
	unix.SYS_SENDMSG:  "sendmsg",
	unix.SYS_SENDMMSG: "sendmmsg",
}

// namedSockets stats the policy's sockets in the host's view, at launch: the gate compares
// the inode a call reaches with these. A path that is not a socket now names nothing.
func namedSockets(pol *profiles.Policy) map[fileID]profiles.PathRule {
	out := map[fileID]profiles.PathRule{}
	for _, r := range pol.Filesystem.Sockets {
		var st unix.Stat_t
		if unix.Stat(r.Path, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK {
			out[fileID{st.Dev, st.Ino}] = r
		}
	}
	return out
}

// Limits on what the gate copies from a caller: a datagram larger than the socket could
// send fails there anyway.
const (
	maxSockaddr = 128 // sizeof(struct sockaddr_storage): the kernel refuses longer
	maxDatagram = 8 << 20
	maxControl  = 1 << 20
	maxIovecs   = 1024 // UIO_MAXIOV
)

// answer is what the caller's system call returns: a value, an error, or go on unchanged.
type answer struct {
	val   int64
	errno unix.Errno
	cont  bool
}

// serve answers one notification. It runs in a goroutine of its own: a connect may block
// until the server accepts, and the notifier must go on meanwhile.
func (g *sockGate) serve(req seccompNotif) {
	a := g.decide(&req)
	resp := seccompNotifResp{ID: req.ID}
	switch {
	case a.cont:
		resp.Flags = unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE
	case a.errno != 0:
		resp.Error = -int32(a.errno)
	default:
		resp.Val = a.val
	}
	_ = ioctl(g.listener, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&resp))
}

// sockCall is one notified call being decided: the caller and its socket, as agentrun holds them.
type sockCall struct {
	req    *seccompNotif
	tid    int
	sock   int    // agentrun's duplicate of the caller's socket
	rootfd int    // the caller's root directory, -1 until needed
	cwd    string // the calling thread's working directory, in its view
	ids    *creds
}

func (c *sockCall) close() {
	if c.rootfd >= 0 {
		unix.Close(c.rootfd)
	}
	unix.Close(c.sock)
}

func (g *sockGate) decide(req *seccompNotif) answer {
	tid := int(req.Pid)
	pidfd, err := pidfdOf(tid)
	if err != nil {
		return answer{errno: unix.EACCES} // the caller is gone, or cannot be inspected: refuse
	}
	defer unix.Close(pidfd)
	if !notifIDValid(g.listener, req.ID) {
		return answer{errno: unix.EACCES}
	}
	sock, err := unix.PidfdGetfd(pidfd, int(int32(req.Args[0])), 0)
	if err == unix.EBADF {
		return answer{errno: unix.EBADF}
	} else if err != nil {
		return answer{errno: unix.EACCES}
	}
	c := &sockCall{req: req, tid: tid, sock: sock, rootfd: -1}
	defer c.close()
	domain, err := unix.GetsockoptInt(sock, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil {
		return answer{errno: unix.ENOTSOCK}
	}
	if domain != unix.AF_UNIX {
		return answer{cont: true}
	}
	typ, err := unix.GetsockoptInt(sock, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return answer{errno: unix.EACCES}
	}
	name := sockCalls[uintptr(req.Nr)]
	if name != "connect" && typ != unix.SOCK_DGRAM {
		return answer{cont: true}
	}
	if c.rootfd, err = unix.Open("/proc/"+strconv.Itoa(tid)+"/root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
		return answer{errno: unix.EACCES}
	}
	// Read while still agentrun: the thread that makes the call may have become the caller.
	c.cwd, _ = os.Readlink("/proc/" + strconv.Itoa(tid) + "/cwd")
	if !notifIDValid(g.listener, req.ID) {
		return answer{errno: unix.EACCES} // the root and cwd were read by pid: it must still be the caller's
	}
	if g.asRoot {
		if c.ids, err = credsOf(tid); err != nil {
			return answer{errno: unix.EACCES}
		}
	}
	switch name {
	case "connect":
		return g.connect(c)
	case "sendto":
		return g.sendto(c)
	case "sendmsg":
		return g.sendmsg(c)
	}
	return g.sendmmsg(c)
}

// readAddress copies a socket address of n bytes from the caller, once.
func readAddress(c *sockCall, addr uintptr, n uint64) ([]byte, unix.Errno) {
	if n > maxSockaddr {
		return nil, unix.EINVAL
	}
	b := make([]byte, n)
	if n > 0 && readMemory(int(c.req.Pid), addr, b) != len(b) {
		return nil, unix.EFAULT
	}
	return b, 0
}

// sunPath is the path of a pathname AF_UNIX address, "" for every other address (abstract,
// unnamed, another family: the kernel judges those on the sandbox's own socket).
func sunPath(sa []byte) string {
	if len(sa) <= 2 || binaryFamily(sa) != unix.AF_UNIX || sa[2] == 0 {
		return ""
	}
	p := sa[2:]
	if i := strings.IndexByte(string(p), 0); i >= 0 {
		p = p[:i]
	}
	return string(p)
}

func binaryFamily(sa []byte) uint16 { return uint16(sa[0]) | uint16(sa[1])<<8 }

// target is a pathname socket resolved in the caller's view and judged.
type target struct {
	path  string // as the caller sees it, for events
	opath int    // an O_PATH descriptor of the socket's inode
	errno unix.Errno
}

// resolve opens the socket named path (absolute, or relative to the calling thread's working
// directory) in the caller's view (agentView: never in the host's, never out of the caller's
// root; a /proc magic link leads to the object it names), and judges it.
func (g *sockGate) resolve(c *sockCall, op, path string) target {
	full, ok := eventPath([]byte(path), c.cwd)
	if !ok {
		return target{errno: unix.ENOENT}
	}
	v := &agentView{root: c.rootfd, tid: c.tid} // c owns the root
	r := v.resolve(full, true, true)
	switch {
	case r.err == errTooComplex:
		g.deny(c, op, r.path, "filesystem.sockets", "the path takes too many lookups to resolve")
		return target{errno: unix.EACCES}
	case r.err == errLoop:
		return target{errno: unix.ELOOP}
	case r.err == errNotDir:
		return target{errno: unix.ENOTDIR}
	case r.fd < 0:
		return target{errno: unix.ENOENT}
	}
	fd := r.fd
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		unix.Close(fd)
		return target{errno: unix.ECONNREFUSED} // what connecting to a file that is not a socket gives
	}
	shown := r.path
	t := target{path: shown, opath: fd}
	if g.private(c, &st) {
		return t
	}
	if r, ok := g.named[fileID{st.Dev, st.Ino}]; ok {
		if g.trace {
			g.emit(c, op, shown, events.Allowed, "filesystem.sockets "+r.Pattern+" ("+r.Origin.String()+")", "")
		}
		return t
	}
	g.deny(c, op, shown, "filesystem.sockets", "a host unix socket the profile does not name; add it to filesystem.sockets to allow it")
	if g.audit {
		return t
	}
	unix.Close(fd)
	return target{errno: unix.EACCES}
}

// private reports whether st is on one of the sandbox's own file systems: its /tmp and
// /dev/shm tmpfs, found in the caller's root. The direct tier has none.
func (g *sockGate) private(c *sockCall, st *unix.Stat_t) bool {
	if g.direct {
		return false
	}
	for _, d := range []string{"tmp", "dev/shm"} {
		var ds unix.Stat_t
		if unix.Fstatat(c.rootfd, d, &ds, unix.AT_SYMLINK_NOFOLLOW) == nil && ds.Dev == st.Dev {
			return true
		}
	}
	return false
}

func (g *sockGate) deny(c *sockCall, op, path, rule, reason string) {
	v := events.Denied
	if g.audit {
		v = events.WouldDeny
	}
	g.emit(c, op, path, v, rule, reason)
}

func (g *sockGate) emit(c *sockCall, op, path string, v events.Verdict, rule, reason string) {
	if g.record == nil {
		return
	}
	e := events.Event{Kind: events.KindSocket, Op: op, Path: path, Verdict: v, Rule: rule, Reason: reason}
	if p := g.procs.lookup(c.tid); p != nil {
		e.Process, e.Exe = p.String(), p.exe
		e.Chain = g.procs.chain(p, int(g.stagePid.Load()))
	}
	g.record(e)
}

// viaPath is the address that reaches exactly the inode of the O_PATH descriptor fd: its
// magic link in /proc, which the kernel follows to that inode.
func viaPath(fd int) []byte {
	p := "/proc/thread-self/fd/" + strconv.Itoa(fd)
	sa := make([]byte, 2+len(p)+1)
	sa[0], sa[1] = unix.AF_UNIX&0xff, unix.AF_UNIX>>8
	copy(sa[2:], p)
	return sa
}

// asCaller runs f with the caller's credentials: on a thread of its own that took them, when
// agentrun is root; as it is otherwise (rootless, agentrun and the agent share the uid).
func (g *sockGate) asCaller(c *sockCall, f func() answer) answer {
	if c.ids == nil {
		return f()
	}
	done := make(chan answer, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread dies with the goroutine, its credentials with it.
		if err := becomeOnThisThread(*c.ids); err != nil {
			done <- answer{errno: unix.EACCES}
			return
		}
		done <- f()
	}()
	return <-done
}

func (g *sockGate) connect(c *sockCall) answer {
	sa, errno := readAddress(c, uintptr(c.req.Args[1]), c.req.Args[2])
	if errno != 0 {
		return answer{errno: errno}
	}
	return g.asCaller(c, func() answer {
		path := sunPath(sa)
		if path == "" {
			return g.unnamed(c, func() unix.Errno { return connectRaw(c.sock, sa) })
		}
		t := g.resolve(c, "connect", path)
		if t.errno != 0 {
			return answer{errno: t.errno}
		}
		defer unix.Close(t.opath)
		return answer{errno: connectRaw(c.sock, viaPath(t.opath))}
	})
}

// unnamed makes a call whose address is not a path (abstract, unnamed, AF_UNSPEC), on the
// caller's socket: abstract names are looked up in the socket's network namespace, the
// sandbox's own. The direct tier shares the host's, where Landlock's scoping keeps the agent
// to its own abstract sockets; a call agentrun makes would escape that scope, so there they
// are refused.
func (g *sockGate) unnamed(c *sockCall, f func() unix.Errno) answer {
	if g.direct {
		return answer{errno: unix.EPERM}
	}
	return answer{errno: f()}
}

func (g *sockGate) sendto(c *sockCall) answer {
	r := c.req
	sa, errno := readAddress(c, uintptr(r.Args[4]), r.Args[5])
	if errno != 0 {
		return answer{errno: errno}
	}
	if r.Args[2] > maxDatagram {
		return answer{errno: unix.EMSGSIZE}
	}
	data := make([]byte, r.Args[2])
	if len(data) > 0 && readMemory(int(r.Pid), uintptr(r.Args[1]), data) != len(data) {
		return answer{errno: unix.EFAULT}
	}
	return g.asCaller(c, func() answer {
		return g.send(c, "send", sa, data, nil, int(int32(r.Args[3])))
	})
}

// send sends one datagram on the caller's socket, to sa (none: the connected peer).
func (g *sockGate) send(c *sockCall, op string, sa, data, oob []byte, flags int) answer {
	name := sa
	if path := sunPath(sa); path != "" {
		t := g.resolve(c, op, path)
		if t.errno != 0 {
			return answer{errno: t.errno}
		}
		defer unix.Close(t.opath)
		name = viaPath(t.opath)
	} else if len(sa) > 0 && g.direct {
		return answer{errno: unix.EPERM}
	}
	n, errno := sendRaw(c.sock, name, data, oob, flags)
	if errno != 0 {
		return answer{errno: errno}
	}
	return answer{val: int64(n)}
}

// message is one struct msghdr's contents, copied from the caller.
type message struct {
	name, data, oob []byte
	fds             []int // descriptors taken from the caller for SCM_RIGHTS
}

func (m *message) close() {
	for _, fd := range m.fds {
		unix.Close(fd)
	}
}

// readMessage copies the struct msghdr at addr, with its name, data and control messages.
// Descriptors passed with SCM_RIGHTS are the caller's numbers: they are replaced by
// agentrun's duplicates of the same files.
func readMessage(c *sockCall, addr uintptr) (*message, unix.Errno) {
	pid := int(c.req.Pid)
	hb := make([]byte, msghdrSize)
	if readMemory(pid, addr, hb) != len(hb) {
		return nil, unix.EFAULT
	}
	h := parseMsghdr(hb)
	m := &message{}
	if h.name != 0 && h.namelen > 0 {
		var errno unix.Errno
		if m.name, errno = readAddress(c, h.name, uint64(h.namelen)); errno != 0 {
			return nil, errno
		}
	}
	if h.iovlen > maxIovecs {
		return nil, unix.EMSGSIZE
	}
	if h.iovlen > 0 {
		ib := make([]byte, h.iovlen*iovecSize)
		if readMemory(pid, h.iov, ib) != len(ib) {
			return nil, unix.EFAULT
		}
		for i := 0; i < int(h.iovlen); i++ {
			base, n := uintptr(nativeU64(ib[i*iovecSize:])), nativeU64(ib[i*iovecSize+8:])
			if n == 0 {
				continue
			}
			if uint64(len(m.data))+n > maxDatagram {
				return nil, unix.EMSGSIZE
			}
			part := make([]byte, n)
			if readMemory(pid, base, part) != len(part) {
				return nil, unix.EFAULT
			}
			m.data = append(m.data, part...)
		}
	}
	if h.control != 0 && h.controllen > 0 {
		if h.controllen > maxControl {
			return nil, unix.ENOBUFS
		}
		m.oob = make([]byte, h.controllen)
		if readMemory(pid, h.control, m.oob) != len(m.oob) {
			return nil, unix.EFAULT
		}
		if errno := m.takeRights(c); errno != 0 {
			m.close()
			return nil, errno
		}
	}
	return m, 0
}

// takeRights replaces the descriptor numbers of SCM_RIGHTS messages by agentrun's own
// duplicates of the caller's descriptors.
func (m *message) takeRights(c *sockCall) unix.Errno {
	pidfd, err := pidfdOf(c.tid)
	if err != nil {
		return unix.EACCES
	}
	defer unix.Close(pidfd)
	for off := 0; off+cmsgHeaderSize <= len(m.oob); {
		n, level, typ := cmsgFields(m.oob[off:])
		if n < cmsgHeaderSize || off+n > len(m.oob) {
			return unix.EINVAL
		}
		if level == unix.SOL_SOCKET && typ == unix.SCM_RIGHTS {
			for p := off + cmsgHeaderSize; p+4 <= off+n; p += 4 {
				fd, err := unix.PidfdGetfd(pidfd, int(int32(nativeU32(m.oob[p:]))), 0)
				if err != nil {
					return unix.EBADF
				}
				m.fds = append(m.fds, fd)
				putNativeU32(m.oob[p:], uint32(fd))
			}
		}
		off += cmsgAlign(n)
	}
	return 0
}

func (g *sockGate) sendmsg(c *sockCall) answer {
	m, errno := readMessage(c, uintptr(c.req.Args[1]))
	if errno != 0 {
		return answer{errno: errno}
	}
	defer m.close()
	return g.asCaller(c, func() answer {
		return g.send(c, "send", m.name, m.data, m.oob, int(int32(c.req.Args[2])))
	})
}

// sendmmsg sends the messages one by one, as the kernel does, and writes each one's count
// back into the caller's array; it stops at the first error, which it returns only when
// nothing was sent.
func (g *sockGate) sendmmsg(c *sockCall) answer {
	r := c.req
	vec, vlen := uintptr(r.Args[1]), min(r.Args[2], maxIovecs)
	flags := int(int32(r.Args[3]))
	sent := int64(0)
	for i := uint64(0); i < vlen; i++ {
		at := vec + uintptr(i)*mmsghdrSize
		m, errno := readMessage(c, at)
		if errno == 0 {
			a := g.asCaller(c, func() answer { return g.send(c, "send", m.name, m.data, m.oob, flags) })
			m.close()
			errno = a.errno
			if errno == 0 {
				var b [4]byte
				putNativeU32(b[:], uint32(a.val))
				writeMemory(int(r.Pid), at+msghdrSize, b[:])
			}
		}
		if errno != 0 {
			if sent > 0 {
				break
			}
			return answer{errno: errno}
		}
		sent++
	}
	return answer{val: sent}
}

// creds are the ids a call is made with: the caller's effective uid and gid and its groups,
// as the host sees them.
type creds struct {
	uid, gid int
	groups   []int
}

// credsOf reads thread tid's credentials from /proc (in agentrun's user namespace, so host
// ids).
func credsOf(tid int) (*creds, error) {
	b, err := readProcFile("/proc/"+strconv.Itoa(tid)+"/status", 0)
	if err != nil {
		return nil, err
	}
	return parseCreds(string(b))
}

func parseCreds(status string) (*creds, error) {
	c := &creds{uid: -1, gid: -1}
	for _, line := range strings.Split(status, "\n") {
		key, val, _ := strings.Cut(line, ":")
		f := strings.Fields(val)
		switch key {
		case "Uid", "Gid":
			if len(f) < 2 {
				return nil, unix.EINVAL
			}
			id, err := strconv.Atoi(f[1]) // effective
			if err != nil {
				return nil, err
			}
			if key == "Uid" {
				c.uid = id
			} else {
				c.gid = id
			}
		case "Groups":
			for _, s := range f {
				g, err := strconv.Atoi(s)
				if err != nil {
					return nil, err
				}
				c.groups = append(c.groups, g)
			}
		}
	}
	if c.uid < 0 || c.gid < 0 {
		return nil, unix.EINVAL
	}
	return c, nil
}
