package seccompfilter

import (
	"runtime"

	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

// Denied are the system calls that fail with EPERM in every sandbox, whatever their
// arguments: debugging and reading other processes, kernel attack surface that agents never
// need, and mount and namespace changes.
var Denied = []string{
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"bpf", "perf_event_open", "userfaultfd", "lookup_dcookie", "fanotify_init",
	"keyctl", "add_key", "request_key",
	"mount", "umount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
	"fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
	"setns", "kexec_load", "kexec_file_load", "reboot",
	"init_module", "finit_module", "delete_module", "create_module",
	"open_by_handle_at", "name_to_handle_at",
	"acct", "swapon", "swapoff", "syslog", "quotactl", "quotactl_fd",
	"iopl", "ioperm", "vhangup", "uselib", "ustat", "sysfs", "_sysctl", "nfsservctl",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
}

// Personality flags (linux/personality.h) that undo address-space randomisation, make reads
// executable or map page zero: exploit aids, never needed by an agent.
var deniedPersonality = []uint64{
	0x0040000, // ADDR_NO_RANDOMIZE
	0x0100000, // MMAP_PAGE_ZERO
	0x0200000, // ADDR_COMPAT_LAYOUT
	0x0400000, // READ_IMPLIES_EXEC
}

// low32 is the mask for arguments the kernel reads as 32-bit values (int, unsigned int).
// seccomp sees all 64 bits of a register, so a rule comparing the whole register is passed
// by setting a high bit the kernel then ignores: socket(AF_VSOCK|1<<32, …). Every rule on
// such an argument compares it masked.
const low32 = 0xffffffff

// ipprotoMPTCP is IPPROTO_MPTCP (linux/in.h).
const ipprotoMPTCP = 262

// Denials is the filter's refusals: allow by default, deny the list above and a few
// argument-dependent calls, every argument compared as the kernel reads it. noInet denies
// every AF_INET and AF_INET6 socket except plain TCP: in the Landlock + seccomp tier with no
// network, Landlock cuts off TCP (ABI 4) but governs no other protocol, and nothing else
// separates the agent from the host's network.
func Denials(noInet bool) *configs.Seccomp {
	errno := func(e unix.Errno) *uint { v := uint(e); return &v }
	rule := func(e unix.Errno, name string, args ...*configs.Arg) *configs.Syscall {
		return &configs.Syscall{Name: name, Action: configs.Errno, ErrnoRet: errno(e), Args: args}
	}
	deny := func(name string, args ...*configs.Arg) *configs.Syscall { return rule(unix.EPERM, name, args...) }
	// is compares a 32-bit argument with value, whatever its upper half holds.
	is := func(index uint, value uint64) *configs.Arg {
		return &configs.Arg{Index: index, Op: configs.MaskEqualTo, Value: low32, ValueTwo: value}
	}
	// has tests bits of an argument (a 64-bit flags word or a 32-bit one alike).
	has := func(index uint, bits uint64) *configs.Arg {
		return &configs.Arg{Index: index, Op: configs.MaskEqualTo, Value: bits, ValueTwo: bits}
	}
	// Only the native architecture: a system call made through another ABI (32-bit x86 on
	// amd64) matches no architecture of the filter and kills the process.
	s := &configs.Seccomp{DefaultAction: configs.Allow, Architectures: []string{runtime.GOARCH}}
	for _, name := range Denied {
		s.Syscalls = append(s.Syscalls, deny(name))
	}
	s.Syscalls = append(s.Syscalls,
		// Typing into the terminal of the user's shell, and console tricks. The request is
		// an unsigned int in the kernel.
		deny("ioctl", is(1, unix.TIOCSTI)),
		deny("ioctl", is(1, unix.TIOCLINUX)),
		// New user namespaces would give the agent capabilities over a namespace of its own.
		// The flags are unsigned long; the test of one bit ignores the rest.
		deny("unshare", has(0, unix.CLONE_NEWUSER)),
		deny("clone", has(0, unix.CLONE_NEWUSER)),
		// clone3 takes its flags in memory that seccomp cannot read: ENOSYS makes libc fall
		// back to clone, which is filtered above.
		rule(unix.ENOSYS, "clone3"),
		// Running a descriptor (fexecve, execveat with AT_EMPTY_PATH) is how a memfd the
		// agent wrote runs without a path Landlock could check.
		rule(unix.EACCES, "execveat", has(4, unix.AT_EMPTY_PATH)),
		// A memfd the agent wrote and then runs through /proc/self/fd/N has no path for
		// Landlock to check: memfds are only for those who seal them against exec (Linux
		// 6.3+). ENOSYS is what callers that fall back to a file expect.
		rule(unix.ENOSYS, "memfd_create", &configs.Arg{Index: 1, Op: configs.MaskEqualTo, Value: unix.MFD_NOEXEC_SEAL, ValueTwo: 0}),
		// Host-to-VM sockets: vsock is not scoped by network namespaces.
		deny("socket", is(0, unix.AF_VSOCK)),
		deny("socketpair", is(0, unix.AF_VSOCK)),
		// Multipath TCP is not TCP to Landlock; programs fall back to TCP on this error.
		rule(unix.EPROTONOSUPPORT, "socket", is(2, ipprotoMPTCP)),
	)
	// Netlink other than routing (which getifaddrs needs). The kernel reads the protocol as
	// an int and refuses any outside 0 to 31 (MAX_LINKS) itself, so a rule per bit of 1 to
	// 31 denies every protocol but NETLINK_ROUTE (0), whatever the other bits hold: five
	// rules, not 31 (a NotEqualTo rule would compare all 64 bits).
	for bit := uint64(1); bit < 32; bit <<= 1 {
		s.Syscalls = append(s.Syscalls, deny("socket", is(0, unix.AF_NETLINK), has(2, bit)))
	}
	for _, flag := range deniedPersonality {
		s.Syscalls = append(s.Syscalls, deny("personality", has(0, flag)))
	}
	s.Syscalls = append(s.Syscalls, setIDRules(deny, has)...)
	if noInet {
		s.Syscalls = append(s.Syscalls, inetRules(rule, is)...)
	}
	return s
}

// setIDRules refuse to make a set-user-ID or set-group-ID file: the agent's files are the
// invoking user's on the host (root's, when agentrun runs as root for root: see agentUser),
// and a setuid copy of a shell left in the workspace would run as that user for whoever runs
// it, outside the sandbox. Every call that sets a mode is covered, with the mode argument
// where it is: chmod, fchmod, fchmodat, fchmodat2, creat, mknod, mknodat, and open and openat
// when they create (O_CREAT, or O_TMPFILE, whose file linkat can name). openat2 takes its
// mode in memory seccomp cannot read: it is ENOSYS, on which its callers fall back to openat
// (kernels before 5.6 have none).
// modeArg is the mode argument of the calls whose mode alone says whether they make a
// set-ID file.
var modeArg = []struct {
	name string
	mode uint
}{{"chmod", 1}, {"fchmod", 1}, {"fchmodat", 2}, {"fchmodat2", 2}, {"creat", 1}, {"mknod", 1}, {"mknodat", 2}}

// setIDBits are the mode bits setIDRules refuse.
const setIDBits = unix.S_ISUID | unix.S_ISGID

func setIDRules(deny func(string, ...*configs.Arg) *configs.Syscall, has func(uint, uint64) *configs.Arg) []*configs.Syscall {
	var out []*configs.Syscall
	for _, bit := range []uint64{unix.S_ISUID, unix.S_ISGID} {
		for _, c := range modeArg {
			out = append(out, deny(c.name, has(c.mode, bit)))
		}
		for _, create := range []uint64{unix.O_CREAT, unix.O_TMPFILE &^ unix.O_DIRECTORY} {
			out = append(out, deny("open", has(1, create), has(2, bit)), deny("openat", has(2, create), has(3, bit)))
		}
	}
	errno := uint(unix.ENOSYS)
	return append(out, &configs.Syscall{Name: "openat2", Action: configs.Errno, ErrnoRet: &errno})
}

// inetRules deny AF_INET and AF_INET6 sockets other than SOCK_STREAM with protocol 0 or
// IPPROTO_TCP, which Landlock's network rules govern, and TCP Fast Open. socket's type carries flags above
// its low four bits (SOCK_NONBLOCK, SOCK_CLOEXEC); the kernel masks them off.
func inetRules(rule func(unix.Errno, string, ...*configs.Arg) *configs.Syscall, is func(uint, uint64) *configs.Arg) []*configs.Syscall {
	const typeMask = 0xf // SOCK_TYPE_MASK
	sockType := func(t uint64) *configs.Arg {
		return &configs.Arg{Index: 1, Op: configs.MaskEqualTo, Value: typeMask, ValueTwo: t}
	}
	// TCP Fast Open connects from sendto/sendmsg, past the connect hook Landlock checks.
	fastOpen := &configs.Arg{Op: configs.MaskEqualTo, Value: unix.MSG_FASTOPEN, ValueTwo: unix.MSG_FASTOPEN}
	at := func(i uint) *configs.Arg { a := *fastOpen; a.Index = i; return &a }
	out := []*configs.Syscall{
		rule(unix.EACCES, "sendto", at(3)),
		rule(unix.EACCES, "sendmsg", at(2)),
		rule(unix.EACCES, "sendmmsg", at(3)),
	}
	for _, family := range []uint64{unix.AF_INET, unix.AF_INET6} {
		for t := uint64(0); t <= typeMask; t++ {
			if t != unix.SOCK_STREAM {
				out = append(out, rule(unix.EACCES, "socket", is(0, family), sockType(t)))
			}
		}
		// Protocols 1 to 5, and everything above 6 (SCTP, MPTCP, and any value with its
		// upper half set, which is not a protocol the kernel knows anyway).
		for p := uint64(1); p < unix.IPPROTO_TCP; p++ {
			out = append(out, rule(unix.EACCES, "socket", is(0, family), sockType(unix.SOCK_STREAM), is(2, p)))
		}
		out = append(out, rule(unix.EACCES, "socket", is(0, family), sockType(unix.SOCK_STREAM),
			&configs.Arg{Index: 2, Op: configs.GreaterThan, Value: unix.IPPROTO_TCP}))
	}
	return out
}

// Spec names a filter: the stage builds it (Build) from what agentrun sends.
type Spec struct {
	// NoInet: the Landlock + seccomp tier without network (see Denials); its filter also
	// denies TCP Fast Open, which the unix socket gate then leaves to it.
	NoInet bool `json:"no_inet,omitempty"`
	// Report says which file and exec calls the filter reports to agentrun.
	Report Report `json:"report,omitempty"`
}

// Specs are every Spec there is: the filters compiled when agentrun is built
// (programs_linux_amd64.go).
func Specs() []Spec {
	var out []Spec
	for _, noInet := range []bool{false, true} {
		for r := ReportNothing; r <= ReportAll; r++ {
			out = append(out, Spec{NoInet: noInet, Report: r})
		}
	}
	return out
}

// Build is the filter of s: the denials, the unix socket gate, and the reported calls.
func Build(s Spec) *configs.Seccomp {
	c := Denials(s.NoInet)
	gateSockets(c, s.NoInet)
	if s.Report != ReportNothing {
		addReportRules(c, s.Report)
		keepSetIDDenials(c)
	}
	return c
}

// keepSetIDDenials narrows the watch's rules on the calls setIDRules deny by their mode: a
// rule without conditions would take such a call whole (libseccomp), so the watch reports
// only those without a set-ID bit, the rest being denied; and openat2, ENOSYS, is not
// reported at all.
func keepSetIDDenials(c *configs.Seccomp) {
	out := c.Syscalls[:0]
	for _, r := range c.Syscalls {
		if r.Action == configs.Notify && len(r.Args) == 0 {
			if r.Name == "openat2" {
				continue
			}
			for _, c := range modeArg {
				if c.name == r.Name {
					r.Args = []*configs.Arg{{Index: c.mode, Op: configs.MaskEqualTo, Value: setIDBits, ValueTwo: 0}}
				}
			}
		}
		out = append(out, r)
	}
	c.Syscalls = out
}
