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
	// given is set once Build has it: from then on Build receives from done, or closes it.
	given atomic.Bool
}

// StartIDMap starts making m's user namespace on a thread of its own, through the /proc this
// process sees now — the host's, in the stage's mount namespace before it builds its root (see
// newIDMapUserns). Nil where that is not a proc file system: the root's idmapped binds then
// make the namespace through the sandbox's /proc, as without.
func StartIDMap(m IDMapping) *Pending {
	proc, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(proc, &st); err != nil || st.Type != unix.PROC_SUPER_MAGIC {
		unix.Close(proc)
		return nil
	}
	p := &Pending{m: m, done: make(chan idmapped, 1)}
	go func() {
		defer unix.Close(proc)
		fd, err := newIDMapUserns(proc, m, true)
		p.done <- idmapped{fd, err}
	}()
	return p
}

// Close waits for the namespace and closes it. Not for a Pending given to Build.
func (p *Pending) Close() {
	if p == nil {
		return
	}
	if r := <-p.done; r.err == nil {
		unix.Close(r.fd)
	}
}
