package seccompprog

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Program is a filter compiled for the kernel (by platform/linux/seccompfilter.Compile):
// what the stage loads, without libseccomp. Raw holds its sock_filter instructions in host byte order, 8 bytes each.
type Program struct {
	Raw []byte
	// Listener: the filter notifies agentrun of some calls, and loading it returns the
	// descriptor those notifications are read from (SECCOMP_FILTER_FLAG_NEW_LISTENER).
	Listener bool
}

// MaxInsns is BPF_MAXINSNS, the most instructions the kernel takes in one filter.
const MaxInsns = 4096

// Instructions decodes p.
func (p *Program) Instructions() ([]unix.SockFilter, error) {
	if len(p.Raw) == 0 || len(p.Raw)%8 != 0 || len(p.Raw)/8 > MaxInsns {
		return nil, fmt.Errorf("a seccomp program of %d bytes is not 1 to %d instructions of 8 bytes", len(p.Raw), MaxInsns)
	}
	out := make([]unix.SockFilter, len(p.Raw)/8)
	for i := range out {
		b := p.Raw[i*8:]
		out[i] = unix.SockFilter{Code: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:])}
	}
	return out, nil
}

// Load loads p on the calling thread (not on the process's other threads, as libcontainer
// loads it), and returns its notification descriptor, -1 without one. The caller has set
// no_new_privs, or holds CAP_SYS_ADMIN.
func (p *Program) Load() (int, error) {
	insns, err := p.Instructions()
	if err != nil {
		return -1, err
	}
	prog := unix.SockFprog{Len: uint16(len(insns)), Filter: &insns[0]}
	var flags uintptr
	if p.Listener {
		flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	}
	fd, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(insns)
	if errno == unix.EINVAL && p.Listener {
		// The programs are compiled when agentrun is built: nothing asked this kernel first.
		return -1, fmt.Errorf("loading the seccomp filter: %w (its user notifications, as agentrun answers them, need Linux 5.7 or newer)", errno)
	}
	if errno != 0 {
		return -1, fmt.Errorf("loading the seccomp filter: %w", errno)
	}
	if !p.Listener {
		return -1, nil
	}
	return int(fd), nil
}
