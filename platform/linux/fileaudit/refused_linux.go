package fileaudit

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/kdenials"
	"github.com/agentrun/agentrun/profiles"
)

// RefusalCalls are the file calls whose refusals are denials that the seccomp notifications
// of scope s do not report: in enforce mode (WatchExecs) every file call; in audit mode as root
// (WatchKernelReads) the opens (those that write are reported, and dropped by Refused). Execs
// are reported whatever their result; openat2 the filter answers ENOSYS before any file system
// is asked.
func RefusalCalls(s Scope) []kdenials.Call {
	var out []kdenials.Call
	for nr, c := range watchedCalls {
		if c.op == "exec" || c.how >= 0 || s != WatchExecs && (c.op != "open" || c.access == profiles.AccessWrite) {
			continue
		}
		rc := kdenials.Call{Nr: int(nr), Flags: c.flags + 1}
		for _, p := range c.paths {
			rc.Paths = append(rc.Paths, p[1])
		}
		out = append(out, rc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Nr < out[j].Nr })
	return out
}

// RefusalErrnos are the errors that may mean the sandbox refused a call of RefusalCalls(s):
// EACCES (a denied path's mode-000 stand-in; Landlock), EPERM and ENOENT (a path the mounts
// leave out: the home directory shows only what profiles name); with writes (WatchExecs) also
// EROFS (a read-only bind), EBUSY (a mount point moved or removed: the mount plan's pins) and
// EXDEV (Landlock's refusal to move a file between rules, and any move across mounts). The
// judge keeps those the policy explains; the rest are the host's own answers.
func RefusalErrnos(s Scope) []unix.Errno {
	if s == WatchExecs {
		return []unix.Errno{unix.EACCES, unix.EPERM, unix.ENOENT, unix.EROFS, unix.EBUSY, unix.EXDEV}
	}
	return []unix.Errno{unix.EACCES, unix.EPERM, unix.ENOENT}
}

// refusals is the sandbox's view as the kernel's refusals are decoded in it: learnt from the
// first one (every process of the sandbox shares its root), apart from the notifier's, whose
// loop runs in another goroutine.
type refusals struct {
	mu  sync.Mutex
	own ownFS
	// unplaced counts the refusals that could not be decoded: a relative path or a magic
	// link of a process that had ended.
	unplaced atomic.Int64
	// dir is the agent's working directory, where a process that has ended is taken to have
	// been (SetWorkingDir).
	dir   string
	quiet quietRefusals
	// passer passes over, in the kernel, the repeats of a refusal judged to be nothing
	// whose path is steady (PassOverIn); nil until then.
	passer KernelPassOver
	steady steadyPaths
}

// KernelPassOver is the recorder's own pass-over of a refusal (kdenials.Watcher.PassOver).
type KernelPassOver interface {
	PassOver(nr int, errno unix.Errno, flags uint64, path string, d time.Duration) error
}

// PassOverIn lets the observer have the recorder p pass over, for quietFor, the repeats of a
// refusal it judged to be nothing (quietRefusals) whose path the sandbox cannot make lead
// elsewhere (steadyPaths): a loader's and a locale's probes, ≈ 20 of them at each program's
// start, then cost neither a record nor a wakeup of agentrun. Before the first Refused.
func (o *Observer) PassOverIn(p KernelPassOver) { o.refused.passer = p }

// ReadsRefusals tells the observer, before the sandbox runs, that the kernel's refusals will
// be handed to Refused: the notifications of execs then note where each program started.
func (o *Observer) ReadsRefusals() {
	if o.judge != nil {
		o.judge.procs.keepCwds.Store(true)
	}
}

// Refused turns r, a file call of the sandbox the kernel refused (the recorder of the
// kernel's refusals reports it once the call has returned: enforce mode's denied reads), into
// events: a denial where the policy explains the refusal, nothing where the policy allows the
// access (the host's permissions refused it, or the path just is not there). A refusal whose
// relative path can no longer be placed (its process is gone), or whose path the recorder
// could not read, is counted (Unplaced). Safe for concurrent use.
func (o *Observer) Refused(r kdenials.Record) {
	if o.judge == nil || !o.serving.Load() {
		return // the stage's own setting up (Serve)
	}
	for _, p := range r.Paths {
		if p.Err != nil {
			o.refused.unplaced.Add(1)
			return
		}
	}
	c, ok := watchedCalls[uintptr(r.Nr)]
	if !ok || c.op == "exec" || c.how >= 0 || len(r.Paths) != len(c.paths) {
		return
	}
	flags := uint64(0)
	if c.flags >= 0 {
		flags = r.Args[c.flags]
	}
	if c.op == "open" && flags&unix.O_PATH != 0 {
		return // a handle, no access (Landlock's rules are made of them)
	}
	if o.scope >= WatchKernelReads && c.writes(flags) {
		return // the notifications reported it, and its denial, before the call
	}
	quiet := quietKey(r, flags)
	if o.refused.quiet.has(quiet) && o.stillAsWritten(r) {
		return
	}
	// Where its relative paths start, first: the caller may end at any moment, and with it
	// its working directory and descriptors. One that has ended is taken to have been where
	// it executed its program (`cd dir && cat file`), else in the agent's working directory,
	// and its event says so.
	var bases []string // of the relative paths, in order: decodeCall asks for those only
	guessed := guessNone
	for i, p := range c.paths {
		if r.Paths[i].Name != "" && r.Paths[i].Name[0] == '/' {
			continue
		}
		dirfd := unix.AT_FDCWD
		if p[0] >= 0 {
			dirfd = int(int32(r.Args[p[0]]))
		}
		b, ok := baseDir(r.Tid, dirfd)
		if !ok && dirfd == unix.AT_FDCWD {
			if cwd, known := o.judge.procs.cwdAtExec(r.Tid); known {
				b, ok, guessed = cwd, true, guessExecDir
			} else if o.refused.dir != "" {
				b, ok, guessed = o.refused.dir, true, guessAgentDir
			}
		}
		if !ok {
			o.refused.unplaced.Add(1)
			return
		}
		bases = append(bases, b)
	}
	n := 0
	base := func(int, int) (string, bool) { n++; return bases[n-1], true }
	// What the caller is: the stage's own calls (setting the sandbox up) are not the agent's.
	proc, ended := o.judge.procs.after(r.Tid, r.Pid, r.Comm)
	if o.judge.ours(proc) || int64(r.Tid) == o.judge.stagePid.Load() {
		return
	}
	raws := make([][]byte, len(r.Paths))
	for i, p := range r.Paths {
		raws[i] = []byte(p.Name)
	}
	o.refused.mu.Lock()
	if cwd, known := o.judge.procs.cwdAtExec(r.Tid); known {
		// Its /proc/self/cwd, should it have ended, as for its relative paths above.
		o.refused.own.goneCwd, o.refused.own.goneFrom = cwd, guessExecDir
	}
	a, ok := decodeCall(c, r.Tid, r.Args, flags, raws, &o.refused.own, base, func() bool { return true })
	o.refused.own.goneCwd, o.refused.own.goneFrom = o.refused.dir, guessAgentDir
	o.refused.mu.Unlock()
	if ok && a.lost {
		a.release()
		ok, ended = false, true // counted, as a relative path whose process had ended
	}
	if !ok {
		if ended {
			o.refused.unplaced.Add(1)
		}
		return
	}
	a.proc = proc
	if guessed != guessNone {
		a.guessedDir = guessed
	}
	o.judge.judge(&a)
	a.release()
	if !a.recorded && a.guessedDir == guessNone && !a.lost && asWritten(a.paths, r.Paths) {
		o.refused.quiet.add(quiet)
		o.passOver(r, flags, quiet)
	}
}

// passOver hands r, judged to be nothing and kept as quiet, to the recorder's own pass-over
// where its one path is steady. A pass-over that fails costs only its records.
func (o *Observer) passOver(r kdenials.Record, flags uint64, quiet string) {
	if o.refused.passer == nil || quiet == "" || len(r.Paths) != 1 {
		return
	}
	o.refused.mu.Lock()
	v, err := o.refused.own.view(r.Tid)
	steady := false
	if err == nil {
		steady = o.refused.steady.steady(v, int(o.judge.stagePid.Load()), r.Paths[0].Name)
		v.close()
	}
	o.refused.mu.Unlock()
	if steady {
		_ = o.refused.passer.PassOver(r.Nr, r.Errno, flags, r.Paths[0].Name, quietFor)
	}
}

// stillAsWritten reports whether r's paths still resolve to themselves in the sandbox's view
// (see asWritten): a refusal passed over before is passed over again only then.
func (o *Observer) stillAsWritten(r kdenials.Record) bool {
	o.refused.mu.Lock()
	defer o.refused.mu.Unlock()
	v, err := o.refused.own.view(r.Tid)
	if err != nil {
		return false
	}
	defer v.close()
	return stillAsWritten(v, r.Paths)
}

// Unplaced is how many refusals could not be decoded into events: their process had ended
// before its relative path or /proc link could be resolved, or their path was unreadable.
func (o *Observer) Unplaced() int64 { return o.refused.unplaced.Load() }

// SetWorkingDir tells the observer the agent's working directory, as the sandbox sees it: the
// start of a relative path refused to a process that has ended before it was read.
func (o *Observer) SetWorkingDir(dir string) {
	o.refused.dir = dir
	o.refused.mu.Lock()
	o.refused.own.goneCwd, o.refused.own.goneFrom = dir, guessAgentDir
	o.refused.mu.Unlock()
}
