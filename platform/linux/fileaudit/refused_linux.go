package fileaudit

import (
	"sort"
	"sync"

	"golang.org/x/sys/unix"
)

// Refusal is one file call of the sandbox that the kernel refused, as a recorder of the
// kernel's refusals reports it once the call has returned (platform/linux/kdenials): enforce
// mode's source of denials, since its file calls never wait for agentrun.
type Refusal struct {
	Tid   int // the calling thread, as agentrun's /proc numbers it
	Nr    int // the system call
	Errno unix.Errno
	Args  [6]uint64
	// Paths are the call's path arguments as it passed them, in the order of RefusalCall's
	// Paths.
	Paths []string
}

// RefusalCall is a system call whose refusals the judge turns into events, with the argument
// indexes of its paths.
type RefusalCall struct {
	Nr    int
	Paths []int
}

// RefusalCalls are the file calls whose refusals are denials: every watched call but exec,
// which the seccomp notifications report whatever its result, and openat2, which the filter
// answers ENOSYS before any file system is asked.
func RefusalCalls() []RefusalCall {
	var out []RefusalCall
	for nr, c := range watchedCalls {
		if c.op == "exec" || c.how >= 0 {
			continue
		}
		rc := RefusalCall{Nr: int(nr)}
		for _, p := range c.paths {
			rc.Paths = append(rc.Paths, p[1])
		}
		out = append(out, rc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Nr < out[j].Nr })
	return out
}

// RefusalErrnos are the errors that may mean the sandbox refused a file call: EACCES (a
// denied path's mode-000 stand-in, Landlock), EPERM, EROFS (a read-only bind), EBUSY (a
// pinned directory, which holds a protected path, renamed or removed) and ENOENT (a path the
// mounts leave out: the home directory shows only what profiles name). The judge keeps those
// the policy explains; the rest are the host's own answers.
var RefusalErrnos = []unix.Errno{unix.EACCES, unix.EPERM, unix.EROFS, unix.EBUSY, unix.ENOENT}

// refusals is the sandbox's view as the kernel's refusals are decoded in it: learnt from the
// first one (every process of the sandbox shares its root), apart from the notifier's, whose
// loop runs in another goroutine.
type refusals struct {
	mu  sync.Mutex
	own ownFS
}

// Refused turns r into events: a denial where the policy explains the refusal, nothing where
// the policy allows the access (the host's permissions refused it, or the path just is not
// there). A refusal whose relative path can no longer be placed (its process is gone) is
// dropped. Safe for concurrent use.
func (o *Observer) Refused(r Refusal) {
	if o.judge == nil {
		return
	}
	c, ok := watchedCalls[uintptr(r.Nr)]
	if !ok || c.op == "exec" || c.how >= 0 || len(r.Paths) != len(c.paths) {
		return
	}
	flags := uint64(0)
	if c.flags >= 0 {
		flags = r.Args[c.flags]
	}
	raws := make([][]byte, len(r.Paths))
	for i, p := range r.Paths {
		raws[i] = []byte(p)
	}
	o.refused.mu.Lock()
	a, ok := decodeCall(c, r.Tid, r.Args, flags, raws, &o.refused.own, func() bool { return true })
	o.refused.mu.Unlock()
	if !ok {
		return
	}
	a.proc = o.judge.procs.lookup(a.pid)
	o.judge.judge(&a)
	a.release()
}
