package fileaudit

import (
	"bytes"
	"sync"

	"golang.org/x/sys/unix"
)

// memReader holds what one read of a caller's memory needs, reused through memReaders: every
// reported call's paths are read while the caller waits, and a page-sized buffer and two
// iovecs made for each read were most of what the notifier allocated (a collection every ≈
// 650 notifications).
type memReader struct {
	buf    [unix.PathMax]byte
	local  [1]unix.Iovec
	remote [1]unix.RemoteIovec
}

var memReaders = sync.Pool{New: func() any { return new(memReader) }}

// pathFirstRead is how much of a path readPath copies first: most paths are shorter, and
// need not have the rest of their page copied.
const pathFirstRead = 256

// readPath reads a NUL-terminated path from pid's memory: nil and false where it cannot be
// read or is not terminated within PATH_MAX bytes (the kernel refuses such a path with
// ENAMETOOLONG). Each read stops at a page's end: it copies no more than the string's page
// holds, and a string that ends just before an unmapped page reads whole.
func readPath(pid int, addr uintptr) ([]byte, bool) {
	if addr == 0 {
		return nil, false
	}
	const page = 4096
	r := memReaders.Get().(*memReader)
	defer memReaders.Put(r)
	for have := 0; have < len(r.buf); {
		n := min(page-int(addr%page), len(r.buf)-have)
		if have == 0 {
			n = min(n, pathFirstRead)
		}
		got := r.copy(pid, addr, r.buf[have:have+n], false)
		if got <= 0 {
			return nil, false
		}
		if i := bytes.IndexByte(r.buf[have:have+got], 0); i >= 0 {
			if have+i == 0 {
				return nil, true
			}
			return bytes.Clone(r.buf[:have+i]), true
		}
		have += got
		addr += uintptr(got)
	}
	return nil, false
}

// readMemory copies len(b) bytes of pid's memory at addr into b; it returns how many, or -1.
func readMemory(pid int, addr uintptr, b []byte) int { return copyMemory(pid, addr, b, false) }

// writeMemory writes b into pid's memory at addr (sendmmsg's counts); it returns how many
// bytes, or -1.
func writeMemory(pid int, addr uintptr, b []byte) int { return copyMemory(pid, addr, b, true) }

func copyMemory(pid int, addr uintptr, b []byte, write bool) int {
	r := memReaders.Get().(*memReader)
	defer memReaders.Put(r)
	return r.copy(pid, addr, b, write)
}

// copy copies between b and pid's memory at addr with r's iovecs; it returns how many bytes,
// or -1.
func (r *memReader) copy(pid int, addr uintptr, b []byte, write bool) int {
	if len(b) == 0 {
		return 0
	}
	r.local[0] = unix.Iovec{Base: &b[0], Len: uint64(len(b))}
	r.remote[0] = unix.RemoteIovec{Base: addr, Len: len(b)}
	vm := unix.ProcessVMReadv
	if write {
		vm = unix.ProcessVMWritev
	}
	n, err := vm(pid, r.local[:], r.remote[:], 0)
	r.local[0] = unix.Iovec{} // the pool keeps no pointer into b
	if err != nil {
		return -1
	}
	return n
}
