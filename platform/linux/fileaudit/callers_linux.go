package fileaudit

import (
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/profiles"
)

// An exec is the one notified call that changes what its caller is, so the notifier reads the
// caller (procTable.lookup: its stat, exe and cmdline in /proc) while the call waits, for the
// event the judge may make of it. Those reads were the largest part of what an exec waited
// for agentrun (≈ 55 µs of its ≈ 250 here), for every program a shell runs, while in enforce
// mode an event is made of almost none: only of an exec the policy refuses, of a path that is missing or
// could not be resolved, and of a script whose interpreter the policy refuses. needsCaller
// tells those apart before the call goes on, as the judge will judge them, so that the other
// execs go on without the reads.

// programID names one version of a file: its inode, when the inode last changed (a write to
// the file, a chmod, a truncation each make another), and the file system's handle of it,
// which holds the inode's generation where the file system reuses inode numbers (ext4: a file
// removed and another made at once may get its number, and its ctime within one tick of the
// coarse clock). A version without a handle (handle "") is never known: programs keeps none.
type programID struct {
	dev, ino uint64
	ctime    unix.Timespec
	handle   string
}

// programIDOf is the version of the file fd refers to (O_PATH or opened), whose status is st.
func programIDOf(fd int, st *unix.Stat_t) programID {
	return programID{dev: st.Dev, ino: st.Ino, ctime: st.Ctim, handle: handleOf(fd)}
}

// atHandleFID asks name_to_handle_at for a handle that identifies the inode without having to
// open it again (Linux 6.5): overlayfs gives one only so.
const atHandleFID = 0x200

// handleOf is the file system's handle of the file fd refers to (its type and bytes), or ""
// where it gives none.
func handleOf(fd int) string {
	h, _, err := unix.NameToHandleAt(fd, "", unix.AT_EMPTY_PATH|atHandleFID)
	if err == unix.EINVAL {
		h, _, err = unix.NameToHandleAt(fd, "", unix.AT_EMPTY_PATH)
	}
	if err != nil {
		return ""
	}
	return strconv.Itoa(int(h.Type())) + ":" + string(h.Bytes())
}

// maxPrograms bounds programs (and the notifier's asked); past it, each starts again.
const maxPrograms = 4096

// programs are what the script reader found the agent's programs to be, as they were when it
// read them: plain (their first bytes are no #! line: an exec of one names no interpreter to
// judge) or a script. It is safe for concurrent use.
type programs struct {
	mu    sync.Mutex
	kinds map[programID]bool
}

func (p *programs) add(id programID, plain bool) {
	if id.handle == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.kinds == nil || len(p.kinds) >= maxPrograms {
		p.kinds = map[programID]bool{}
	}
	p.kinds[id] = plain
}

// kind is what id was found to be, if it was read.
func (p *programs) kind(id programID) (plain, known bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	plain, known = p.kinds[id]
	return plain, known
}

// needsCaller reports whether the judge may make an event of a, the notifier's decoded
// access, so that its caller must be read before the call goes on. It answers as judge and
// judgePath will (TestNeedsCallerAnswersAsTheJudge): false only for an exec in enforce mode
// without --trace of what the judge passes over (the stage's own, one on the sandbox's own
// file systems) or of an existing, resolved program known to be no script (programs, by
// the version the call resolved) that the policy allows. Every other access reads its caller.
func (j *fileJudge) needsCaller(a *fileAccess) bool {
	if a.op != "exec" || j.audit || j.trace || j.visible != nil || len(a.paths) == 0 {
		return true
	}
	if int64(a.pid) == j.stagePid.Load() || a.own[0] {
		return false // judge passes these over
	}
	if a.unresolved[0] || !a.exists[0] || a.execFD < 0 || !j.isPlain(a.execID) {
		return true
	}
	return !j.files.Allows(a.paths[0], profiles.AccessExec)
}

func (j *fileJudge) isPlain(id programID) bool {
	plain, _ := j.programs.kind(id)
	return plain
}

// hurries reports whether the loop should hand a (decoded, its caller read or not) over to the
// judge at once rather than with its batch: an exec of a program version the script reader
// has not read, the first time the loop sees it (asked remembers those), so that the next
// exec of it finds it known: once per version (a script is known too, as one).
func (j *fileJudge) hurries(a *fileAccess, asked map[programID]bool) bool {
	if a.op != "exec" || a.execFD < 0 || asked[a.execID] {
		return false
	}
	if _, known := j.programs.kind(a.execID); known {
		return false
	}
	if len(asked) >= maxPrograms {
		clear(asked)
	}
	asked[a.execID] = true
	return true
}
