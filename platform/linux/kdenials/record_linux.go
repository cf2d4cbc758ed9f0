package kdenials

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// Record is one system call of the sandbox that the kernel refused.
type Record struct {
	Pid, Tid int // in the host's PID namespace
	Nr       int // the system call's number on this architecture
	Errno    unix.Errno
	Args     [6]uint64 // as passed (a dirfd is int32(Args[i]))
	Paths    []Path    // the path arguments, in the order the Call named them
	// Comm is the calling task's name (its program's, at most 15 bytes): what the record says
	// of a process that has ended before it is read.
	Comm string
}

// Path is a path argument of a refused call, as the caller's memory held it when the call
// returned (a thread of the caller may have changed it since the kernel read it: the record
// is the sandbox's word, the denial the kernel's).
type Path struct {
	Arg  int    // the argument's index
	Name string // exactly as passed, relative or not
	// Err is the errno of a failed read (EFAULT: the address was not mapped); Name is then
	// empty.
	Err error
}

// decodeRecord decodes a record the exit program sent.
func decodeRecord(b []byte) (Record, error) {
	if len(b) < recHeader {
		return Record{}, fmt.Errorf("decoding a kernel denial record: %d bytes, want at least %d", len(b), recHeader)
	}
	le := binary.NativeEndian
	r := Record{
		Pid:   int(le.Uint32(b[recTgid:])),
		Tid:   int(le.Uint32(b[recTid:])),
		Nr:    int(le.Uint32(b[recNr:])),
		Errno: unix.Errno(le.Uint32(b[recErrno:])),
	}
	for i := range r.Args {
		r.Args[i] = le.Uint64(b[recArgs+8*i:])
	}
	comm := b[recComm : recComm+commLen]
	if i := bytes.IndexByte(comm, 0); i >= 0 {
		comm = comm[:i]
	}
	r.Comm = string(comm)
	spec := le.Uint32(b[recSpec:])
	rest := b[recHeader:]
	for n := range 2 {
		arg := int(spec>>(4*n)&0xf) - 1
		if arg < 0 {
			break
		}
		if arg > 5 {
			return Record{}, fmt.Errorf("decoding a kernel denial record: path argument %d", arg)
		}
		size := int32(le.Uint32(b[recLen1+4*n:]))
		p := Path{Arg: arg}
		switch {
		case size < 0:
			p.Err = unix.Errno(-size)
		case int(size) > len(rest):
			return Record{}, fmt.Errorf("decoding a kernel denial record: path %d of %d bytes, %d left", n, size, len(rest))
		default:
			name := rest[:size]
			rest = rest[size:]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			p.Name = string(name)
		}
		r.Paths = append(r.Paths, p)
	}
	return r, nil
}
