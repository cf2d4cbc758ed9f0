package fileaudit

import (
	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/kopens"
	"github.com/agentrun/agentrun/profiles"
)

// Opened judges r, an open of the sandbox that the kernel's recorder of opened files reports
// once it has succeeded (audit mode as root: WatchKernelReads), as the notifier would have
// judged it in audit mode: in enforce mode's view, a would-deny where the policy refuses the
// read, with rule and process (named by its comm when it has ended). Opens that write, and
// O_PATH handles, are not its: the notifications report the first, the second access
// nothing. A path the recorder could not read whole (deeper than it walks, a name it could
// not read) is a would-deny of rule "path resolution", as the notifier's are; one that is no
// path of the sandbox's tree (a pipe or socket reopened through /proc) is the sandbox's own;
// one that cannot be looked up in its view is counted (Unjudged).
//
// It returns where the recorder may stop reporting reads: settle, a directory on the file's
// path whose files (with subtree, everything beneath it) would all be judged as this one was
// and record nothing, so that the recorder need not report them (kopens' Remember); "" where
// there is none. Safe for concurrent use.
func (o *Observer) Opened(r kopens.Open) (settle string, subtree bool) {
	if o.judge == nil || !o.serving.Load() {
		return "", false // the stage's own setting up (Serve)
	}
	c, ok := watchedCalls[uintptr(r.Nr)]
	if !ok || c.op != "open" || c.flags < 0 {
		return "", false // openat2: the filter answers ENOSYS; it opens nothing in the sandbox
	}
	flags := uint64(r.Flags)
	if flags&unix.O_PATH != 0 || c.writes(flags) {
		return "", false
	}
	tid := int(r.Tid)
	proc, _ := o.judge.procs.after(tid, int(r.Tgid), r.Comm)
	if o.judge.ours(proc) || int64(tid) == o.judge.stagePid.Load() {
		return "", false
	}
	switch r.Status {
	case kopens.Complete:
	case kopens.Truncated, kopens.NameErr:
		// Never skipped for want of knowing what it reaches: denied, said why.
		a := fileAccess{pid: tid, op: "open", access: profiles.AccessRead, execFD: -1, proc: proc}
		reason := "the path is deeper than agentrun's kernel recorder reads (its last names are shown)"
		if r.Status == kopens.NameErr {
			reason = "agentrun's kernel recorder could not read a name of the path (its last names are shown)"
		}
		o.judge.record(&a, "…"+r.Path, "read", profiles.AccessDecision{Rule: "path resolution", Reason: reason})
		return "", false
	default:
		// No path of the sandbox's tree: a pipe or socket reopened through /proc/self/fd,
		// an anonymous file. The notifier finds those the sandbox's own.
		return "", false
	}
	raws := [][]byte{[]byte(r.Path)}
	none := func(int, int) (string, bool) { return "", false } // the path is absolute
	o.refused.mu.Lock()
	a, ok := decodeCall(c, tid, [6]uint64{}, flags, raws, &o.refused.own, none, func() bool { return true })
	o.refused.mu.Unlock()
	if ok && a.lost {
		a.release()
		ok = false
	}
	if !ok {
		o.unjudged.Add(1)
		return "", false
	}
	// The kernel opened it: it was there, whatever has become of it since.
	a.exists[0] = true
	a.proc = proc
	o.judge.judge(&a)
	a.release()
	return o.judge.settles(r.Path)
}

// Unjudged is how many of the opens the kernel reported (Opened) were not judged: their path
// could not be looked up in the sandbox's view.
func (o *Observer) Unjudged() int64 { return o.unjudged.Load() }
