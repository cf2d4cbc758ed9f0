package seccompfilter

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The kernel runs no filter at all for a system call every attached filter allows whatever
// its arguments (seccomp's action cache, Linux 5.11+): when a filter is attached, it runs the
// filter once per call number on a seccomp_data that holds only the number and the
// architecture, and a call whose run reaches SECCOMP_RET_ALLOW without loading anything else
// is allowed from then on by a bit test. A rule on one argument of read — even one that never
// matches — would make every read of the sandbox run the whole filter. These tests hold the
// calls file-heavy tools make by the thousand (issue 13: grep, rg, git, node, go build) to
// that cache, in every filter agentrun can load.

// The architectures an amd64 kernel emulates a filter for: its native calls, and the
// compat ABI's (int $0x80, i386 numbers), which gets a cache of its own.
const (
	auditArchX8664 = 0xc000003e // AUDIT_ARCH_X86_64
	auditArchI386  = 0x40000003 // AUDIT_ARCH_I386
)

// cachedAllow reports whether the kernel's emulation (kernel/seccomp.c,
// seccomp_is_const_allow) finds that prog allows call nr of architecture arch whatever its
// arguments: it follows the program with only the call's number and architecture known, and
// gives up (false) at any other load or instruction it does not emulate.
func cachedAllow(prog []unix.SockFilter, arch, nr uint32) bool {
	const (
		ldAbsW  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		retK    = unix.BPF_RET | unix.BPF_K
		ja      = unix.BPF_JMP | unix.BPF_JA
		jeqK    = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jgeK    = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
		jgtK    = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
		jsetK   = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
		andK    = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
		offNr   = 0 // offsetof(struct seccomp_data, nr)
		offArch = 4 // offsetof(struct seccomp_data, arch)
	)
	var a uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case ldAbsW:
			switch in.K {
			case offNr:
				a = nr
			case offArch:
				a = arch
			default:
				return false // an argument or the instruction pointer: not constant
			}
		case retK:
			return in.K == unix.SECCOMP_RET_ALLOW
		case ja:
			pc += int(in.K)
		case jeqK, jgeK, jgtK, jsetK:
			var taken bool
			switch in.Code {
			case jeqK:
				taken = a == in.K
			case jgeK:
				taken = a >= in.K
			case jgtK:
				taken = a > in.K
			default:
				taken = a&in.K != 0
			}
			if taken {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case andK:
			a &= in.K
		default:
			return false
		}
	}
	return false // ran off the end: the kernel refuses such a program anyway
}

// hotCalls are the calls a file-heavy tool makes for nearly every file it reads or lists,
// and the runtime calls every program makes in loops. None of them may cost a filter run.
var hotCalls = map[string]uint32{
	"read": unix.SYS_READ, "write": unix.SYS_WRITE, "pread64": unix.SYS_PREAD64,
	"pwrite64": unix.SYS_PWRITE64, "readv": unix.SYS_READV, "writev": unix.SYS_WRITEV,
	"close": unix.SYS_CLOSE, "fstat": unix.SYS_FSTAT, "newfstatat": unix.SYS_NEWFSTATAT,
	"statx": unix.SYS_STATX, "lstat": unix.SYS_LSTAT, "stat": unix.SYS_STAT,
	"lseek": unix.SYS_LSEEK, "getdents64": unix.SYS_GETDENTS64, "readlink": unix.SYS_READLINK,
	"readlinkat": unix.SYS_READLINKAT, "access": unix.SYS_ACCESS, "faccessat2": unix.SYS_FACCESSAT2,
	"getcwd": unix.SYS_GETCWD, "fchdir": unix.SYS_FCHDIR, "fcntl": unix.SYS_FCNTL,
	"dup3": unix.SYS_DUP3, "pipe2": unix.SYS_PIPE2, "mmap": unix.SYS_MMAP,
	"munmap": unix.SYS_MUNMAP, "mprotect": unix.SYS_MPROTECT, "madvise": unix.SYS_MADVISE,
	"brk": unix.SYS_BRK, "futex": unix.SYS_FUTEX, "rt_sigaction": unix.SYS_RT_SIGACTION,
	"rt_sigprocmask": unix.SYS_RT_SIGPROCMASK, "rt_sigreturn": unix.SYS_RT_SIGRETURN,
	"sched_yield": unix.SYS_SCHED_YIELD, "nanosleep": unix.SYS_NANOSLEEP,
	"clock_nanosleep": unix.SYS_CLOCK_NANOSLEEP, "epoll_pwait": unix.SYS_EPOLL_PWAIT,
	"epoll_ctl": unix.SYS_EPOLL_CTL, "ppoll": unix.SYS_PPOLL, "poll": unix.SYS_POLL,
	"getpid": unix.SYS_GETPID, "gettid": unix.SYS_GETTID, "getrandom": unix.SYS_GETRANDOM,
	"recvfrom": unix.SYS_RECVFROM, "recvmsg": unix.SYS_RECVMSG, "wait4": unix.SYS_WAIT4,
	"exit_group": unix.SYS_EXIT_GROUP,
}

// TestHotCallsSkipTheFilter: in every filter agentrun can load on amd64 (Specs, as compiled
// when agentrun was built), each hot call is allowed from the kernel's action cache.
func TestHotCallsSkipTheFilter(t *testing.T) {
	eachProgram(t, func(s Spec, prog []unix.SockFilter) {
		for name, nr := range hotCalls {
			if !cachedAllow(prog, auditArchX8664, nr) {
				t.Errorf("%+v: %s runs the whole filter at every call (a rule on its arguments, or one ahead of it, keeps it out of the kernel's action cache)", s, name)
			}
		}
	})
}

// eachProgram calls f with every filter agentrun can load on amd64, as Compile gives it.
func eachProgram(t *testing.T, f func(Spec, []unix.SockFilter)) {
	t.Helper()
	for _, s := range Specs() {
		p, err := Compile(s)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := p.Instructions()
		if err != nil {
			t.Fatal(err)
		}
		f(s, prog)
	}
}

// TestOtherABIsNeverSkipTheFilter: the way around the cache. A call made through another ABI
// — x32 (the native architecture, the number with bit 30 set) or i386 (int $0x80, where 11
// is execve and 120 clone) — must never be allowed from the cache by its number alone: the
// filter has to run and refuse it. A filter whose architecture or x32 test came after a
// number's allow would let every such call through without running.
func TestOtherABIsNeverSkipTheFilter(t *testing.T) {
	eachProgram(t, func(s Spec, prog []unix.SockFilter) {
		for nr := uint32(0); nr < 1024; nr++ {
			if cachedAllow(prog, auditArchI386, nr) {
				t.Errorf("%+v: i386 call %d is allowed from the cache", s, nr)
			}
			if cachedAllow(prog, auditArchX8664, nr|0x40000000) {
				t.Errorf("%+v: x32 call %d is allowed from the cache", s, nr)
			}
		}
	})
}

// TestCachedAllow: the emulation tells a call a filter allows by its number alone from one
// it allows only after reading an argument, from one it refuses or hands to agentrun, and
// from a program it cannot follow — so that TestHotCallsSkipTheFilter can fail.
func TestCachedAllow(t *testing.T) {
	ld := func(off uint32) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off}
	}
	jeq := func(k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: k, Jt: jt, Jf: jf}
	}
	ret := func(k uint32) unix.SockFilter { return unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: k} }
	// Native architecture only; read (0) allowed when its first argument (offset 16) is 0,
	// write (1) refused, ioctl (16) handed to the listener, everything else allowed.
	prog := []unix.SockFilter{
		ld(4), jeq(auditArchX8664, 1, 0), ret(unix.SECCOMP_RET_KILL_PROCESS),
		ld(0),
		jeq(unix.SYS_READ, 0, 4), ld(16), jeq(0, 0, 1), ret(unix.SECCOMP_RET_ALLOW),
		ret(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)),
		jeq(unix.SYS_WRITE, 0, 1), ret(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)),
		jeq(unix.SYS_IOCTL, 0, 1), ret(unix.SECCOMP_RET_USER_NOTIF),
		{Code: unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, K: 0x40000000, Jt: 0, Jf: 1},
		ret(unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)),
		ret(unix.SECCOMP_RET_ALLOW),
	}
	for _, c := range []struct {
		nr   uint32
		want bool
	}{
		{unix.SYS_READ, false},  // allowed only after its argument is read
		{unix.SYS_WRITE, false}, // refused
		{unix.SYS_IOCTL, false}, // notified
		{unix.SYS_CLOSE, true},  // allowed by its number
		{0x40000000 + unix.SYS_CLOSE, false},
	} {
		if cachedAllow(prog, auditArchI386, c.nr) {
			t.Errorf("call %#x of i386 is cached past the architecture's test", c.nr)
		}
		if got := cachedAllow(prog, auditArchX8664, c.nr); got != c.want {
			t.Errorf("call %#x: cached %v, want %v", c.nr, got, c.want)
		}
	}
	// An instruction the kernel does not emulate (here: a scratch store) ends the emulation.
	odd := []unix.SockFilter{ld(0), {Code: unix.BPF_ST, K: 0}, ret(unix.SECCOMP_RET_ALLOW)}
	if cachedAllow(odd, auditArchX8664, unix.SYS_CLOSE) {
		t.Error("a program with a scratch store was followed")
	}
	if !cachedAllow(odd[2:], auditArchX8664, unix.SYS_CLOSE) {
		t.Error("a program that allows everything is not cached")
	}
}
