//go:build linux

package fileaudit

import (
	"encoding/binary"
	"errors"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The raw system calls of the unix socket gate: what x/sys either lacks (a connect or a send
// with an address given as bytes, one thread's credentials) or would do for every thread
// (syscall.Setresuid changes the whole process).

// notifIDValid reports whether notification id still waits: the caller is alive and its pid
// was not reused. Checked after taking anything from the caller by pid.
func notifIDValid(listener int, id uint64) bool {
	return ioctl(listener, unix.SECCOMP_IOCTL_NOTIF_ID_VALID, unsafe.Pointer(&id)) == nil
}

// pidfdOf opens a pidfd for thread tid (the notification's pid is a thread id), falling back
// to a process pidfd where the kernel has no PIDFD_THREAD (before 6.9): then tid must lead
// its thread group, which a single-threaded caller does.
func pidfdOf(tid int) (int, error) {
	fd, err := unix.PidfdOpen(tid, unix.PIDFD_THREAD)
	if errors.Is(err, unix.EINVAL) {
		fd, err = unix.PidfdOpen(tid, 0)
	}
	return fd, err
}

// connectRaw connects fd to the socket address sa as the kernel would read it from memory.
func connectRaw(fd int, sa []byte) unix.Errno {
	var p unsafe.Pointer
	if len(sa) > 0 {
		p = unsafe.Pointer(&sa[0])
	}
	_, _, errno := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(p), uintptr(len(sa)))
	runtime.KeepAlive(sa)
	return errno
}

// sendRaw sends one message on fd: data, to address name (none when empty), with ancillary
// data oob. It returns the bytes sent.
func sendRaw(fd int, name, data, oob []byte, flags int) (int, unix.Errno) {
	var msg unix.Msghdr
	if len(name) > 0 {
		msg.Name = &name[0]
		msg.Namelen = uint32(len(name))
	}
	var iov unix.Iovec
	if len(data) > 0 {
		iov.Base = &data[0]
		iov.SetLen(len(data))
		msg.Iov = &iov
		msg.SetIovlen(1)
	}
	if len(oob) > 0 {
		msg.Control = &oob[0]
		msg.SetControllen(len(oob))
	}
	n, _, errno := unix.Syscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags))
	runtime.KeepAlive(name)
	runtime.KeepAlive(data)
	runtime.KeepAlive(oob)
	return int(n), errno
}

// becomeOnThisThread gives the calling OS thread, and only it, the credentials ids, with no
// capabilities. The caller must have locked the goroutine to its thread and must let the
// thread die afterwards (return from the goroutine without unlocking).
func becomeOnThisThread(ids creds) error {
	groups := make([]uint32, len(ids.groups))
	for i, g := range ids.groups {
		groups[i] = uint32(g)
	}
	var gp unsafe.Pointer
	if len(groups) > 0 {
		gp = unsafe.Pointer(&groups[0])
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), uintptr(gp), 0); e != 0 {
		return e
	}
	runtime.KeepAlive(groups)
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(ids.gid), uintptr(ids.gid), uintptr(ids.gid)); e != 0 {
		return e
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(ids.uid), uintptr(ids.uid), uintptr(ids.uid)); e != 0 {
		return e
	}
	// Leaving uid 0 clears the capabilities; when the agent's uid is 0 too, drop them here.
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if _, _, e := unix.RawSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		return e
	}
	return nil
}

// The kernel's struct layouts the gate reads from the caller's memory (64-bit).
const (
	msghdrSize  = 56 // struct msghdr (user_msghdr)
	mmsghdrSize = 64 // struct mmsghdr: a msghdr and the count sent
	iovecSize   = 16
)

// msgHeader is a struct msghdr read from the caller.
type msgHeader struct {
	name       uintptr
	namelen    uint32
	iov        uintptr
	iovlen     uint64
	control    uintptr
	controllen uint64
}

func parseMsghdr(b []byte) msgHeader {
	le := binary.NativeEndian
	return msgHeader{
		name: uintptr(le.Uint64(b[0:])), namelen: le.Uint32(b[8:]),
		iov: uintptr(le.Uint64(b[16:])), iovlen: le.Uint64(b[24:]),
		control: uintptr(le.Uint64(b[32:])), controllen: le.Uint64(b[40:]),
	}
}

// cmsgSpace is one control message's size with its padding (CMSG_ALIGN on 64-bit).
func cmsgAlign(n int) int { return (n + 7) &^ 7 }

// cmsgHeaderSize is sizeof(struct cmsghdr) on 64-bit.
const cmsgHeaderSize = 16

// cmsgFields reads a control message header: its length, level and type.
func cmsgFields(b []byte) (length int, level, typ int32) {
	le := binary.NativeEndian
	return int(le.Uint64(b[0:])), int32(le.Uint32(b[8:])), int32(le.Uint32(b[12:]))
}

func nativeU64(b []byte) uint64       { return binary.NativeEndian.Uint64(b) }
func nativeU32(b []byte) uint32       { return binary.NativeEndian.Uint32(b) }
func putNativeU32(b []byte, v uint32) { binary.NativeEndian.PutUint32(b, v) }
