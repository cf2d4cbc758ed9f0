//go:build cgo && seccomp

package seccompfilter

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"

	"github.com/opencontainers/runc/libcontainer/configs"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// The seccomp filter compiled by libseccomp, as libcontainer compiles it, and run on
// seccomp_data inputs in a classic-BPF interpreter: every denied call and argument rule, with
// the upper half of each argument clear and set, beside allowed twins.

// Return values of a seccomp filter (linux/seccomp.h).
const (
	retAllow  = 0x7fff0000
	retErrno  = 0x00050000
	retNotify = 0x7fc00000
	retAction = 0xffff0000
)

// auditArch is AUDIT_ARCH_* of the architectures the test can encode seccomp_data for.
var auditArch = map[string]uint32{"amd64": 0xc000003e, "arm64": 0xc00000b7}

// compiledFilter is a filter as the kernel would get it, ready to run.
type compiledFilter struct {
	vm   *bpf.VM
	arch uint32
}

// compileFilter compiles s as agentrun does for the stage (compileConfig, the program
// TestCompileAsLibcontainer checks against libcontainer's), which fails on a rule with two
// conditions on one argument: libcontainer turns those into one rule per condition, an OR
// where the rule meant AND.
func compileFilter(t *testing.T, s *configs.Seccomp) *compiledFilter {
	t.Helper()
	arch, ok := auditArch[runtime.GOARCH]
	if !ok {
		t.Skipf("seccomp_data encoding for %s is not in this test", runtime.GOARCH)
	}
	p, err := compileConfig(s)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := p.Instructions()
	if err != nil {
		t.Fatal(err)
	}
	prog := make([]bpf.RawInstruction, len(raw))
	for i, r := range raw {
		prog[i] = bpf.RawInstruction{Op: r.Code, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	insns, ok := bpf.Disassemble(prog)
	if !ok {
		t.Fatal("the filter has instructions the interpreter does not know")
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		t.Fatal(err)
	}
	return &compiledFilter{vm: vm, arch: arch}
}

// run returns the filter's verdict for system call nr with args. seccomp_data is in host
// byte order and the program loads it 32 bits at a time; the interpreter loads big-endian,
// so each 32-bit word is written big-endian where the host puts it (a 64-bit argument's low
// half first on little-endian hosts).
func (f *compiledFilter) run(t *testing.T, nr int32, args ...uint64) uint32 {
	t.Helper()
	in := make([]byte, 64)
	binary.BigEndian.PutUint32(in[0:], uint32(nr))
	binary.BigEndian.PutUint32(in[4:], f.arch)
	for i, a := range args {
		off := 16 + 8*i
		binary.BigEndian.PutUint32(in[off:], uint32(a))
		binary.BigEndian.PutUint32(in[off+4:], uint32(a>>32))
	}
	v, err := f.vm.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(v)
}

func verdict(v uint32) string {
	switch {
	case v == retAllow:
		return "allow"
	case v == retNotify:
		return "notify"
	case v&retAction == retErrno:
		return unix.Errno(v & 0xffff).Error()
	}
	return fmt.Sprintf("action %#x", v)
}

const hi = 1 << 32 // a high bit the kernel ignores in 32-bit arguments

type filterCase struct {
	call string
	args []uint64
	want unix.Errno // 0: allowed
}

// highBitTwins returns c, c with each 32-bit argument's upper half set, for the listed
// argument indexes.
func highBitTwins(c filterCase, idx ...int) []filterCase {
	out := []filterCase{c}
	for _, i := range idx {
		d := c
		d.args = append([]uint64(nil), c.args...)
		d.args[i] |= hi
		out = append(out, d)
		e := d
		e.args = append([]uint64(nil), c.args...)
		e.args[i] |= 0xffffffff00000000
		out = append(out, e)
	}
	return out
}

func checkFilter(t *testing.T, f *compiledFilter, cases []filterCase) {
	t.Helper()
	for _, c := range cases {
		nr, err := libseccomp.GetSyscallFromName(c.call)
		if err != nil {
			t.Fatalf("%s: %v", c.call, err)
		}
		got := f.run(t, int32(nr), c.args...)
		want := uint32(retAllow)
		if c.want != 0 {
			want = retErrno | uint32(c.want)
		}
		if got != want {
			t.Errorf("%s(%#x): got %s, want %s", c.call, c.args, verdict(got), verdict(want))
		}
	}
}

// sandboxCases are the argument rules of every tier, each with its allowed twin.
func sandboxCases() []filterCase {
	var cases []filterCase
	add := func(c filterCase, idx ...int) { cases = append(cases, highBitTwins(c, idx...)...) }
	for _, name := range Denied {
		if nr, err := libseccomp.GetSyscallFromName(name); err == nil && nr >= 0 {
			cases = append(cases, filterCase{call: name, want: unix.EPERM})
		}
	}
	cases = append(cases, filterCase{call: "getpid"}, filterCase{call: "openat", args: []uint64{0, 0, 0}})
	// ioctl's request is an unsigned int.
	add(filterCase{call: "ioctl", args: []uint64{0, unix.TIOCSTI, 0}, want: unix.EPERM}, 1)
	add(filterCase{call: "ioctl", args: []uint64{0, unix.TIOCLINUX, 0}, want: unix.EPERM}, 1)
	add(filterCase{call: "ioctl", args: []uint64{0, unix.TIOCGWINSZ, 0}}, 1)
	add(filterCase{call: "ioctl", args: []uint64{0, unix.TIOCSTI + 1, 0}}, 1)
	// The flags of unshare and clone are unsigned long: the bit is the rule.
	add(filterCase{call: "unshare", args: []uint64{unix.CLONE_NEWUSER}, want: unix.EPERM}, 0)
	add(filterCase{call: "unshare", args: []uint64{unix.CLONE_NEWUSER | unix.CLONE_NEWNS}, want: unix.EPERM}, 0)
	add(filterCase{call: "unshare", args: []uint64{unix.CLONE_NEWNS}}, 0)
	add(filterCase{call: "clone", args: []uint64{unix.CLONE_NEWUSER | uint64(unix.SIGCHLD)}, want: unix.EPERM}, 0)
	add(filterCase{call: "clone", args: []uint64{uint64(unix.SIGCHLD)}}, 0)
	add(filterCase{call: "clone", args: []uint64{unix.CLONE_VM | unix.CLONE_THREAD | unix.CLONE_SIGHAND}}, 0)
	cases = append(cases, filterCase{call: "clone3", want: unix.ENOSYS})
	// execveat of a descriptor.
	add(filterCase{call: "execveat", args: []uint64{3, 0, 0, 0, unix.AT_EMPTY_PATH}, want: unix.EACCES}, 4)
	add(filterCase{call: "execveat", args: []uint64{3, 0, 0, 0, unix.AT_EMPTY_PATH | unix.AT_SYMLINK_NOFOLLOW}, want: unix.EACCES}, 4)
	add(filterCase{call: "execveat", args: []uint64{unix.AT_FDCWD & 0xffffffff, 0, 0, 0, 0}}, 4)
	add(filterCase{call: "execve", args: []uint64{0, 0, 0}})
	// memfd_create only sealed against exec.
	add(filterCase{call: "memfd_create", args: []uint64{0, 0}, want: unix.ENOSYS}, 1)
	add(filterCase{call: "memfd_create", args: []uint64{0, unix.MFD_CLOEXEC | unix.MFD_EXEC}, want: unix.ENOSYS}, 1)
	add(filterCase{call: "memfd_create", args: []uint64{0, unix.MFD_CLOEXEC | unix.MFD_NOEXEC_SEAL}}, 1)
	// Sockets: the family and protocol are ints.
	add(filterCase{call: "socket", args: []uint64{unix.AF_VSOCK, unix.SOCK_STREAM, 0}, want: unix.EPERM}, 0, 1, 2)
	add(filterCase{call: "socketpair", args: []uint64{unix.AF_VSOCK, unix.SOCK_STREAM, 0, 0}, want: unix.EPERM}, 0)
	add(filterCase{call: "socket", args: []uint64{unix.AF_UNIX, unix.SOCK_STREAM, 0}}, 0, 1)
	add(filterCase{call: "socket", args: []uint64{unix.AF_INET, unix.SOCK_STREAM, 0}}, 0, 1)
	add(filterCase{call: "socket", args: []uint64{unix.AF_INET6, unix.SOCK_STREAM, unix.IPPROTO_TCP}}, 0, 1)
	add(filterCase{call: "socket", args: []uint64{unix.AF_INET, unix.SOCK_STREAM, ipprotoMPTCP}, want: unix.EPROTONOSUPPORT}, 0, 1, 2)
	add(filterCase{call: "socket", args: []uint64{unix.AF_INET6, unix.SOCK_STREAM | unix.SOCK_CLOEXEC, ipprotoMPTCP}, want: unix.EPROTONOSUPPORT}, 0, 1, 2)
	add(filterCase{call: "socket", args: []uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE}}, 0, 1)
	for proto := uint64(1); proto < 32; proto++ {
		add(filterCase{call: "socket", args: []uint64{unix.AF_NETLINK, unix.SOCK_RAW | unix.SOCK_CLOEXEC, proto}, want: unix.EPERM}, 0, 1, 2)
		// Other bits beside the protocol's: still denied.
		add(filterCase{call: "socket", args: []uint64{unix.AF_NETLINK, unix.SOCK_RAW, proto | 0x40}, want: unix.EPERM}, 2)
	}
	// The five low bits clear: the filter lets the kernel refuse it (see
	// TestNetlinkProtocolsTheKernelRefuses).
	add(filterCase{call: "socket", args: []uint64{unix.AF_NETLINK, unix.SOCK_RAW, 32}}, 0)
	// personality's persona is an unsigned int; each flag is a bit.
	for _, flag := range deniedPersonality {
		add(filterCase{call: "personality", args: []uint64{flag}, want: unix.EPERM}, 0)
		add(filterCase{call: "personality", args: []uint64{flag | 0x0008}, want: unix.EPERM}, 0)
	}
	add(filterCase{call: "personality", args: []uint64{0}}, 0)
	add(filterCase{call: "personality", args: []uint64{0x0008}}, 0) // PER_LINUX32
	return append(cases, setIDCases()...)
}

// setIDCases are the calls that could make a set-user-ID or set-group-ID file, the mode an
// unsigned int (its upper half ignored by the kernel), each beside its twin without the bit;
// open and openat only when they create.
func setIDCases() []filterCase {
	var cases []filterCase
	add := func(c filterCase, idx ...int) { cases = append(cases, highBitTwins(c, idx...)...) }
	for _, c := range modeArg {
		args := func(mode uint64) []uint64 {
			a := make([]uint64, 4)
			a[c.mode] = mode
			return a
		}
		for _, bit := range []uint64{unix.S_ISUID, unix.S_ISGID, unix.S_ISUID | unix.S_ISGID} {
			add(filterCase{call: c.name, args: args(bit | 0o755), want: unix.EPERM}, int(c.mode))
		}
		add(filterCase{call: c.name, args: args(0o1777)}, int(c.mode))
	}
	for _, create := range []uint64{unix.O_CREAT, unix.O_TMPFILE, unix.O_CREAT | unix.O_EXCL | unix.O_WRONLY} {
		add(filterCase{call: "open", args: []uint64{0, create, unix.S_ISUID | 0o755}, want: unix.EPERM}, 1, 2)
		add(filterCase{call: "open", args: []uint64{0, create, unix.S_ISGID | 0o755}, want: unix.EPERM}, 1, 2)
		add(filterCase{call: "openat", args: []uint64{0, 0, create, unix.S_ISUID | 0o755}, want: unix.EPERM}, 2, 3)
		add(filterCase{call: "open", args: []uint64{0, create, 0o755}}, 1, 2)
		add(filterCase{call: "openat", args: []uint64{0, 0, create, 0o644}}, 2, 3)
	}
	// Without O_CREAT or O_TMPFILE the mode is not read.
	add(filterCase{call: "openat", args: []uint64{0, 0, unix.O_RDONLY, unix.S_ISUID}}, 2, 3)
	return append(cases, filterCase{call: "openat2", want: unix.ENOSYS})
}

// inetCases are the socket rules of the Landlock + seccomp tier without network, and what
// the other tiers allow of them.
func inetCases(noInet bool) []filterCase {
	deny := func(e unix.Errno) unix.Errno {
		if noInet {
			return e
		}
		return 0
	}
	var cases []filterCase
	add := func(c filterCase, idx ...int) { cases = append(cases, highBitTwins(c, idx...)...) }
	for _, family := range []uint64{unix.AF_INET, unix.AF_INET6} {
		add(filterCase{call: "socket", args: []uint64{family, unix.SOCK_STREAM, 0}}, 0, 1)
		add(filterCase{call: "socket", args: []uint64{family, unix.SOCK_STREAM | unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC, unix.IPPROTO_TCP}}, 0, 1)
		add(filterCase{call: "socket", args: []uint64{family, unix.SOCK_DGRAM, 0}, want: deny(unix.EACCES)}, 0, 1, 2)
		add(filterCase{call: "socket", args: []uint64{family, unix.SOCK_DGRAM | unix.SOCK_CLOEXEC, unix.IPPROTO_UDP}, want: deny(unix.EACCES)}, 0, 1, 2)
		add(filterCase{call: "socket", args: []uint64{family, unix.SOCK_DGRAM, unix.IPPROTO_ICMP}, want: deny(unix.EACCES)}, 0, 1, 2)
		add(filterCase{call: "socket", args: []uint64{family, unix.SOCK_RAW, unix.IPPROTO_RAW}, want: deny(unix.EACCES)}, 0, 1, 2)
		add(filterCase{call: "socket", args: []uint64{family, unix.SOCK_SEQPACKET, unix.IPPROTO_SCTP}, want: deny(unix.EACCES)}, 0, 1, 2)
		add(filterCase{call: "socket", args: []uint64{family, unix.SOCK_STREAM, unix.IPPROTO_SCTP}, want: deny(unix.EACCES)}, 0, 1, 2)
		add(filterCase{call: "socket", args: []uint64{family, unix.SOCK_STREAM, unix.IPPROTO_UDP}, want: deny(unix.EACCES)}, 0, 1, 2)
		add(filterCase{call: "socket", args: []uint64{family, unix.SOCK_STREAM, 1}, want: deny(unix.EACCES)}, 0, 1, 2)
	}
	for _, c := range []filterCase{
		{call: "sendto", args: []uint64{3, 0, 1, unix.MSG_FASTOPEN | unix.MSG_NOSIGNAL, 0, 0}, want: deny(unix.EACCES)},
		{call: "sendmsg", args: []uint64{3, 0, unix.MSG_FASTOPEN}, want: deny(unix.EACCES)},
		{call: "sendmmsg", args: []uint64{3, 0, 1, unix.MSG_FASTOPEN}, want: deny(unix.EACCES)},
		{call: "sendto", args: []uint64{3, 0, 1, unix.MSG_NOSIGNAL, 0, 0}},
		{call: "sendmsg", args: []uint64{3, 0, unix.MSG_DONTWAIT}},
	} {
		add(c, map[string]int{"sendto": 3, "sendmsg": 2, "sendmmsg": 3}[c.call]) // the flags
	}
	// Neither a 64-bit TCP nor another family is caught by the rules for these two.
	add(filterCase{call: "socket", args: []uint64{unix.AF_UNIX, unix.SOCK_DGRAM, 0}}, 0, 1)
	add(filterCase{call: "socket", args: []uint64{unix.AF_NETLINK, unix.SOCK_DGRAM, 0}}, 0, 1)
	return cases
}

func TestSeccompFilterHighBits(t *testing.T) {
	f := compileFilter(t, Denials(false))
	checkFilter(t, f, sandboxCases())
	checkFilter(t, f, inetCases(false))
}

func TestSeccompFilterNoInet(t *testing.T) {
	f := compileFilter(t, Denials(true))
	checkFilter(t, f, sandboxCases())
	checkFilter(t, f, inetCases(true))
	// MPTCP keeps its own answer, so that programs fall back to TCP.
	nr, _ := libseccomp.GetSyscallFromName("socket")
	if v := f.run(t, int32(nr), unix.AF_INET, unix.SOCK_STREAM, ipprotoMPTCP); v&retAction != retErrno {
		t.Errorf("MPTCP without network: got %s, want an error", verdict(v))
	}
}

// TestSeccompFilterWithObserver checks that the notifications of file and exec events do not
// take precedence over a denial of the same call.
func TestSeccompFilterWithObserver(t *testing.T) {
	s := Denials(false)
	addReportRules(s, ReportAll)
	f := compileFilter(t, s)
	nr, _ := libseccomp.GetSyscallFromName("execveat")
	for _, flags := range []uint64{unix.AT_EMPTY_PATH, unix.AT_EMPTY_PATH | hi} {
		if v := f.run(t, int32(nr), 3, 0, 0, 0, flags); v != retErrno|uint32(unix.EACCES) {
			t.Errorf("execveat(%#x) with the observer: got %s, want EACCES", flags, verdict(v))
		}
	}
	if v := f.run(t, int32(nr), 3, 0, 0, 0, 0); v != retNotify {
		t.Errorf("execveat(0) with the observer: got %s, want notify", verdict(v))
	}
	// The set-ID denials hold with the watch, whose rules report the rest.
	checkSetIDDenials(t, compileFilter(t, Build(Spec{Report: ReportAll})), "with the observer")
}

// checkSetIDDenials checks that filter f, described by what, still denies what setIDCases say.
func checkSetIDDenials(t *testing.T, f *compiledFilter, what string) {
	t.Helper()
	for _, c := range setIDCases() {
		nr, _ := libseccomp.GetSyscallFromName(c.call)
		got := f.run(t, int32(nr), c.args...)
		if c.want != 0 && got != retErrno|uint32(c.want) || c.want == 0 && got&retAction == retErrno {
			t.Errorf("%s(%#x) %s: got %s, want %v", c.call, c.args, what, verdict(got), c.want)
		}
	}
}

// TestSeccompFilterEnforceWatchesWrites checks enforce mode's filter: execs and the calls that
// write reach agentrun, reads do not (the kernel enforces them; an open that waited for
// agentrun cost ≈ 40 µs), and the unix socket gate still decides connects.
func TestSeccompFilterEnforceWatchesWrites(t *testing.T) {
	enforce := compileFilter(t, Build(Spec{Report: ReportWrites}))
	audit := compileFilter(t, Build(Spec{Report: ReportAll}))
	for _, c := range []struct {
		call           string
		args           []uint64
		enforce, audit uint32
	}{
		{"execve", []uint64{0x1000, 0, 0}, retNotify, retNotify},
		{"execveat", []uint64{3, 0x1000, 0, 0, 0}, retNotify, retNotify},
		{"openat", []uint64{3, 0x1000, unix.O_RDONLY}, retAllow, retNotify},
		{"openat", []uint64{3, 0x1000, unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC}, retAllow, retNotify},
		{"openat", []uint64{3, 0x1000, unix.O_RDONLY | hi}, retAllow, retNotify},
		{"open", []uint64{0x1000, unix.O_RDONLY}, retAllow, retNotify},
		{"openat", []uint64{3, 0x1000, unix.O_WRONLY}, retNotify, retNotify},
		// The kernel reads flags and mode as 32-bit values: high bits must hide no write.
		{"openat", []uint64{3, 0x1000, unix.O_WRONLY | hi}, retNotify, retNotify},
		{"openat", []uint64{3, 0x1000, unix.O_CREAT | hi, 0o644 | hi}, retNotify, retNotify},
		{"open", []uint64{0x1000, unix.O_RDWR | hi}, retNotify, retNotify},
		{"openat", []uint64{3, 0x1000, unix.O_RDWR}, retNotify, retNotify},
		{"openat", []uint64{3, 0x1000, unix.O_RDONLY | unix.O_CREAT, 0o644}, retNotify, retNotify},
		{"openat", []uint64{3, 0x1000, unix.O_RDONLY | unix.O_TRUNC}, retNotify, retNotify},
		{"openat", []uint64{3, 0x1000, unix.O_WRONLY | unix.O_TMPFILE, 0o600}, retNotify, retNotify},
		{"open", []uint64{0x1000, unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC, 0o644}, retNotify, retNotify},
		{"creat", []uint64{0x1000, 0o644}, retNotify, retNotify},
		{"unlinkat", []uint64{3, 0x1000, 0}, retNotify, retNotify},
		{"renameat2", []uint64{3, 0x1000, 3, 0x2000, 0}, retNotify, retNotify},
		{"mkdirat", []uint64{3, 0x1000, 0o755}, retNotify, retNotify},
		{"connect", []uint64{3, 0x1000, 16}, retNotify, retNotify},
	} {
		nr, err := libseccomp.GetSyscallFromName(c.call)
		if err != nil {
			t.Fatal(err)
		}
		if v := enforce.run(t, int32(nr), c.args...); v != c.enforce {
			t.Errorf("enforce: %s(%#x): got %s, want %s", c.call, c.args, verdict(v), verdict(c.enforce))
		}
		if v := audit.run(t, int32(nr), c.args...); v != c.audit {
			t.Errorf("audit: %s(%#x): got %s, want %s", c.call, c.args, verdict(v), verdict(c.audit))
		}
	}
	// The set-ID denials hold with enforce mode's rules too.
	checkSetIDDenials(t, enforce, "in enforce mode")
}

// TestSeccompFilterExecsOnly checks enforce mode's filter where the kernel reports refused
// calls (ReportExecs): execs and the unix socket gate reach agentrun, no file call does, and
// the denials hold.
func TestSeccompFilterExecsOnly(t *testing.T) {
	f := compileFilter(t, Build(Spec{Report: ReportExecs}))
	for _, c := range []struct {
		call string
		args []uint64
		want uint32
	}{
		{"execve", []uint64{0x1000, 0, 0}, retNotify},
		{"execveat", []uint64{3, 0x1000, 0, 0, 0}, retNotify},
		{"execveat", []uint64{3, 0x1000, 0, 0, unix.AT_EMPTY_PATH}, retErrno},
		{"connect", []uint64{3, 0x1000, 16}, retNotify},
		{"openat", []uint64{3, 0x1000, unix.O_RDONLY}, retAllow},
		{"openat", []uint64{3, 0x1000, unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC, 0o644}, retAllow},
		{"open", []uint64{0x1000, unix.O_RDWR | hi}, retAllow},
		{"creat", []uint64{0x1000, 0o644}, retAllow},
		{"unlinkat", []uint64{3, 0x1000, 0}, retAllow},
		{"renameat2", []uint64{3, 0x1000, 3, 0x2000, 0}, retAllow},
		{"mkdirat", []uint64{3, 0x1000, 0o755}, retAllow},
		{"fchmodat", []uint64{3, 0x1000, 0o644}, retAllow},
		{"openat2", []uint64{3, 0x1000, 0x2000, 24}, retErrno},
	} {
		nr, err := libseccomp.GetSyscallFromName(c.call)
		if err != nil {
			t.Fatal(err)
		}
		if v := f.run(t, int32(nr), c.args...); v&0xffff0000 != c.want&0xffff0000 {
			t.Errorf("%s(%#x): got %s, want %s", c.call, c.args, verdict(v), verdict(c.want))
		}
	}
	checkSetIDDenials(t, f, "reporting execs only")
}

// TestSeccompFilterWithSocketGate checks the unix socket gate's rules against the denials of
// the same calls: every connect and every send that can carry an address reaches agentrun,
// flagged MSG_FASTOPEN or not (a unix datagram send ignores the flag), except where the
// Landlock + seccomp tier denies Fast Open outright, which the gate must not undo.
func TestSeccompFilterWithSocketGate(t *testing.T) {
	for _, noInet := range []bool{false, true} {
		f := compileFilter(t, Build(Spec{NoInet: noInet, Report: ReportAll}))
		fastOpen := uint32(retNotify)
		if noInet {
			fastOpen = retErrno | uint32(unix.EACCES)
		}
		for _, c := range []struct {
			call  string
			args  []uint64
			want  uint32
			label string
		}{
			{"connect", []uint64{3, 0, 16}, retNotify, "connect"},
			{"sendto", []uint64{3, 0, 1, 0, 0x1000, 16}, retNotify, "sendto with an address"},
			{"sendto", []uint64{3, 0, 1, unix.MSG_FASTOPEN, 0x1000, 16}, fastOpen, "sendto with an address, Fast Open"},
			{"sendto", []uint64{3, 0, 1, unix.MSG_FASTOPEN | hi, 0x1000, 16}, fastOpen, "sendto with an address, Fast Open, high bits"},
			{"sendto", []uint64{3, 0, 1, 0, 0, 0}, retAllow, "sendto without an address"},
			{"sendmsg", []uint64{3, 0x1000, 0}, retNotify, "sendmsg"},
			{"sendmsg", []uint64{3, 0x1000, unix.MSG_FASTOPEN}, fastOpen, "sendmsg, Fast Open"},
			{"sendmmsg", []uint64{3, 0x1000, 1, 0}, retNotify, "sendmmsg"},
			{"sendmmsg", []uint64{3, 0x1000, 1, unix.MSG_FASTOPEN}, fastOpen, "sendmmsg, Fast Open"},
		} {
			nr, _ := libseccomp.GetSyscallFromName(c.call)
			if v := f.run(t, int32(nr), c.args...); v != c.want {
				t.Errorf("no network %v: %s: got %s, want %s", noInet, c.label, verdict(v), verdict(c.want))
			}
		}
	}
}

// TestSeccompNoRuleOverridesADenial checks the filters as every tier assembles them for one
// property of libseccomp rather than case by case: a rule without conditions takes a call
// whole, so no call that has a conditional denial may also have a rule without conditions of
// another action (the watch and the socket gate each had one once).
func TestSeccompNoRuleOverridesADenial(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec Spec
	}{
		{"container", Spec{}},
		{"container with events", Spec{Report: ReportAll}},
		{"container in enforce mode", Spec{Report: ReportWrites}},
		{"degraded without network", Spec{NoInet: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conditional, whole := map[string]bool{}, map[string]configs.Action{}
			for _, r := range Build(tc.spec).Syscalls {
				if r.Action == configs.Errno && len(r.Args) > 0 {
					conditional[r.Name] = true
				}
				if len(r.Args) == 0 {
					whole[r.Name] = r.Action
				}
			}
			for name := range conditional {
				if a, ok := whole[name]; ok && a != configs.Errno {
					t.Errorf("%s has conditional denials and a rule without conditions (action %v) that would take it whole", name, a)
				}
			}
		})
	}
}
