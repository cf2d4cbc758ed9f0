package rootfs

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Pending is an idmapping's user namespace being made before the stage knows what to build
// (StartIDMap), beside its reading of its configuration. Build takes it: its namespace when
// it was started for Build's idmapping, and closes it otherwise. A Pending Build does not get
// is closed (Close).
type Pending struct {
	m    IDMapping
	done chan idmapped
	// given is set once Build has it: from then on Build takes it or closes it.
	given atomic.Bool
}

// idmapped is a user namespace of an idmapping, or why it could not be made.
type idmapped struct {
	fd  int
	err error
}

// StartIDMap starts making m's user namespace on a thread of its own, through the /proc this
// process sees now — the host's, in the stage's mount namespace before it builds its root:
// the process made for it is found there by its pidfd (see NewIDMapUserns). Nil where that is
// not a proc file system: the root's first idmapped bind then makes the namespace through the
// sandbox's /proc.
func StartIDMap(m IDMapping) *Pending {
	proc, err := OpenProc("/proc")
	if err != nil {
		return nil
	}
	p := &Pending{m: m, done: make(chan idmapped, 1)}
	go func() {
		defer unix.Close(proc)
		fd, err := NewIDMapUserns(proc, m)
		p.done <- idmapped{fd, err}
	}()
	return p
}

// take waits for the namespace and returns it, the caller's to close.
func (p *Pending) take() (int, error) {
	r := <-p.done
	return r.fd, r.err
}

// Close waits for the namespace and closes it. Not for a Pending given to Build.
func (p *Pending) Close() {
	if p == nil {
		return
	}
	if fd, err := p.take(); err == nil {
		unix.Close(fd)
	}
}
