package fileaudit

import (
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

// programID names one version of a file: its inode, and when the inode last changed (a write
// to the file, a chmod, a truncation each make another).
type programID struct {
	dev, ino uint64
	ctime    unix.Timespec
}

func programIDOf(st *unix.Stat_t) programID {
	return programID{dev: st.Dev, ino: st.Ino, ctime: st.Ctim}
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
