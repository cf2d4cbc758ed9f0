package fileaudit

import (
	"fmt"
	"path"
	"sort"
	"strings"
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
		rc := kdenials.Call{Nr: int(nr)}
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
	if o.refused.quiet.has(quiet) {
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
	a, ok := decodeCall(c, r.Tid, r.Args, flags, raws, &o.refused.own, base, func() bool { return true })
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
	if !a.recorded && !a.guessedDir.any() && !a.lost && !under(a.paths, "/proc") && asWritten(a.paths, r.Paths) {
		o.refused.quiet.add(quiet)
	}
}

// asWritten reports whether each path was resolved to itself (cleaned): no symlink and no ".."
// on the way. Only then does the same path mean the same the next time: the agent may point a
// symlink of its own at nothing, have the probe passed over, then point it at a secret the
// mounts hide, where the second refusal (ENOENT again) would be a denial, and would go
// unrecorded.
func asWritten(resolved []string, raw []kdenials.Path) bool {
	if len(resolved) != len(raw) {
		return false
	}
	for i, p := range raw {
		if path.Clean(p.Name) != resolved[i] {
			return false
		}
	}
	return true
}

// quietRefusals are refusals lately judged to be nothing the policy explains (a probe for a
// file that is not there, the host's own permissions), by what the kernel reported of them:
// every program's loader and locale lookups repeat the same few, by the thousand in a build,
// and each would be decoded again, its process read from /proc, while the kernel's buffer
// fills (three runs at once of a loop of cat lost most of their records). An entry holds for
// quietFor: the host's files may change meanwhile, so what a probe finds may too.
type quietRefusals struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

const (
	quietFor = time.Second
	maxQuiet = 4096
)

// quietKey is r's key in quietRefusals, "" for one that is not kept: a relative path starts
// where its process was, and /proc's and /dev's paths (/proc/self, /dev/fd) lead where the
// caller's own descriptors and identity do.
func quietKey(r kdenials.Record, flags uint64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %d %x", r.Nr, r.Errno, flags)
	for _, p := range r.Paths {
		if !strings.HasPrefix(p.Name, "/") || strings.HasPrefix(p.Name, "/proc") || strings.HasPrefix(p.Name, "/dev") {
			return ""
		}
		b.WriteByte(0)
		b.WriteString(p.Name)
	}
	return b.String()
}

func (q *quietRefusals) has(key string) bool {
	if key == "" {
		return false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	t, ok := q.seen[key]
	return ok && time.Since(t) < quietFor
}

func (q *quietRefusals) add(key string) {
	if key == "" {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.seen == nil || len(q.seen) >= maxQuiet {
		q.seen = map[string]time.Time{}
	}
	q.seen[key] = time.Now()
}

// under reports whether a path of paths is dir or beneath it.
func under(paths []string, dir string) bool {
	for _, p := range paths {
		if profiles.Within(p, dir) {
			return true
		}
	}
	return false
}

// Unplaced is how many refusals could not be decoded into events: their process had ended
// before its relative path or /proc link could be resolved, or their path was unreadable.
func (o *Observer) Unplaced() int64 { return o.refused.unplaced.Load() }

// SetWorkingDir tells the observer the agent's working directory, as the sandbox sees it: the
// start of a relative path refused to a process that has ended before it was read.
func (o *Observer) SetWorkingDir(dir string) {
	o.refused.dir = dir
	o.refused.mu.Lock()
	o.refused.own.goneCwd = dir
	o.refused.mu.Unlock()
}
