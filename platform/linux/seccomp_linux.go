package linux

import (
	"runtime"

	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

// deniedSyscalls fail with EPERM in every sandbox: debugging and reading other processes,
// kernel attack surface that agents never need, and mount and namespace changes.
var deniedSyscalls = []string{
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

// Personality flags (linux/personality.h).
const (
	addrNoRandomize = 0x0040000
	readImpliesExec = 0x0400000
)

// seccompConfig is the sandbox's filter: allow by default, deny the list above and a few
// argument-dependent calls.
func seccompConfig() *configs.Seccomp {
	eperm := uint(unix.EPERM)
	enosys := uint(unix.ENOSYS)
	deny := func(name string, args ...*configs.Arg) *configs.Syscall {
		return &configs.Syscall{Name: name, Action: configs.Errno, ErrnoRet: &eperm, Args: args}
	}
	arg := func(index uint, op configs.Operator, value, valueTwo uint64) *configs.Arg {
		return &configs.Arg{Index: index, Op: op, Value: value, ValueTwo: valueTwo}
	}
	// Only the native architecture: a system call made through another ABI (32-bit x86 on
	// amd64) matches no architecture of the filter and kills the process.
	s := &configs.Seccomp{DefaultAction: configs.Allow, Architectures: []string{runtime.GOARCH}}
	for _, name := range deniedSyscalls {
		s.Syscalls = append(s.Syscalls, deny(name))
	}
	s.Syscalls = append(s.Syscalls,
		// Typing into the terminal of the user's shell, and console tricks.
		deny("ioctl", arg(1, configs.EqualTo, unix.TIOCSTI, 0)),
		deny("ioctl", arg(1, configs.EqualTo, unix.TIOCLINUX, 0)),
		// New user namespaces would give the agent capabilities over a namespace of its own.
		deny("unshare", arg(0, configs.MaskEqualTo, unix.CLONE_NEWUSER, unix.CLONE_NEWUSER)),
		deny("clone", arg(0, configs.MaskEqualTo, unix.CLONE_NEWUSER, unix.CLONE_NEWUSER)),
		// clone3 takes its flags in memory that seccomp cannot read: ENOSYS makes libc fall
		// back to clone, which is filtered above.
		&configs.Syscall{Name: "clone3", Action: configs.Errno, ErrnoRet: &enosys},
		// Host-to-VM sockets, and netlink other than routing (which getifaddrs needs).
		deny("socket", arg(0, configs.EqualTo, unix.AF_VSOCK, 0)),
		deny("socket", arg(0, configs.EqualTo, unix.AF_NETLINK, 0), arg(2, configs.NotEqualTo, unix.NETLINK_ROUTE, 0)),
		// Turning off address-space randomisation, or making all reads executable.
		deny("personality", arg(0, configs.MaskEqualTo, addrNoRandomize, addrNoRandomize)),
		deny("personality", arg(0, configs.MaskEqualTo, readImpliesExec, readImpliesExec)),
	)
	return s
}
