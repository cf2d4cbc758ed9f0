package fileaudit

import (
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/profiles"
)

// fileJudge turns the notifier's accesses into events: each is judged by the policy as enforce
// mode would (profiles.CheckFile). What enforce mode denies is recorded as denied (enforce)
// or would-deny (audit); with trace, what it allows is recorded too.
type fileJudge struct {
	pol      *profiles.Policy
	files    *profiles.FileChecker // pol's file rules, indexed: asked of every access
	audit    bool
	trace    bool
	sink     events.Sink
	self     string // this agentrun binary on the host
	stagePid atomic.Int64
	procs    *procTable
	scripts  scriptReader
	programs programs // what scripts found the programs to be (needsCaller)
	// pinned maps the mount plan's pins (directories that hold protected or denied paths,
	// made mount points so they cannot be moved) to the rule they keep in place.
	pinned map[string]string
	// visible, in audit mode, says whether a host path is in enforce mode's view (see
	// Observer.SetEnforceView); nil in enforce mode, whose view is the one the calls see.
	visible func(string) bool
	settle  settler // for Observer.Opened
}

func newFileJudge(pol *profiles.Policy, spec *fileJudgeSpec) *fileJudge {
	return &fileJudge{
		pol: pol, files: profiles.NewFileChecker(pol), audit: spec.audit, trace: spec.trace, sink: spec.sink,
		self: spec.self, procs: newProcTable(), scripts: newScriptReader(),
	}
}

type fileJudgeSpec struct {
	audit, trace bool
	sink         events.Sink
	self         string
}

func (j *fileJudge) ours(p *procInfo) bool {
	if p == nil {
		return false
	}
	return p.exe == j.self || strings.HasPrefix(p.exe, "/memfd:")
}

// judge judges one access. It may take the access's exec file and view (for the #! line),
// leaving release nothing to close.
func (j *fileJudge) judge(a *fileAccess) {
	if int64(a.pid) == j.stagePid.Load() || (a.op != "exec" && j.ours(a.proc)) {
		return // the stage setting the sandbox up
	}
	if j.visible != nil {
		// Judged as enforce mode's view would have answered: what it hides is not there
		// (a mkdir of a hidden directory creates it, rather than failing with EEXIST).
		for i, p := range a.paths {
			if a.exists[i] && !a.own[i] && !j.visible(p) {
				a.exists[i], a.isDir[i] = false, false
			}
		}
	}
	for i, p := range a.paths {
		// A rename writes to its source and its target.
		if a.unresolved[i] {
			// Never skipped for want of knowing what it reaches: denied, said why.
			op := a.op
			if op == "open" {
				op = map[profiles.Access]string{profiles.AccessWrite: "write"}[a.access]
				if op == "" {
					op = "read"
				}
			}
			j.record(a, p, op, profiles.AccessDecision{Rule: "path resolution", Reason: "the path takes too many lookups for agentrun to resolve in the sandbox's view"})
			continue
		}
		if a.own[i] {
			continue // the sandbox's own /tmp, /proc, /dev…: see ownFS
		}
		if a.full[i] {
			// rmdir of a directory that is not empty fails (ENOTEMPTY) whatever the sandbox
			// does (git stash tries it on .git, a pinned mount point): nothing was refused.
			continue
		}
		j.judgePath(a, p, a.op, a.access, a.exists[i], a.isDir[i])
	}
	if a.op == "exec" && a.execFD >= 0 && !a.own[0] && !j.isPlain(a.execID) {
		// A program known to be no script names no interpreter, and the reader's slots stay
		// free for those that may (past maxScriptReads at once, a script is not read).
		j.scripts.start(j, a)
	}
}

// judgePath judges one canonical path (decodeAccess resolved it in the agent's view).
func (j *fileJudge) judgePath(a *fileAccess, real, op string, access profiles.Access, exists, isDir bool) {
	if !exists && (op == "exec" || op == "delete" || op == "write" || (op == "open" && !a.create)) {
		// Missing in the sandbox: the mounts may hide it (enforce mode shows only what the
		// profile names), and then it is the policy that made the call fail. Where the policy
		// allows the access there is nothing to record either way, so the host is not asked
		// (a build or git status looks for many files that are not there).
		if !j.trace && j.files.CheckFile(real, access).Allow {
			return
		}
		exists = hostHas(real)
	}
	switch op {
	case "open":
		op = "read"
		if access == profiles.AccessWrite {
			op = "write"
			if a.create && !exists {
				op = "create"
			}
		}
		if !exists && !a.create {
			return // fails whatever the policy says
		}
		if exists && a.excl {
			// As mkdir: the kernel answers EEXIST before it asks whether the path may be
			// written (a lock file taken with O_EXCL where it exists): nothing was refused.
			return
		}
	case "exec", "delete", "write":
		if !exists {
			return
		}
	case "mkdir":
		if exists {
			// The kernel answers EEXIST before it asks whether the directory may be written
			// (mkdir -p of the home, of a read-only config directory): nothing was refused.
			return
		}
	}
	if rule, ok := j.pinned[real]; ok && (op == "rename" || op == "delete") {
		// The kernel refuses (EBUSY): the directory is a mount point holding a protected path.
		j.record(a, real, op, profiles.AccessDecision{Rule: rule, Reason: "holds a protected path, so it cannot be renamed or removed"})
		return
	}
	d := j.files.CheckFile(real, access)
	if !d.Allow && access == profiles.AccessRead && isDir && !strings.HasPrefix(d.Rule, "filesystem.deny") {
		// Listing a directory is allowed anywhere; the mounts decide what is in it.
		d = profiles.AccessDecision{Allow: true, Rule: "directory listing"}
	}
	if !d.Allow || j.trace {
		j.record(a, real, op, d)
	}
}

func (j *fileJudge) record(a *fileAccess, path, op string, d profiles.AccessDecision) {
	a.recorded = true
	v := events.Allowed
	if !d.Allow {
		v = events.Denied
		if j.audit {
			v = events.WouldDeny
		}
	}
	kind := events.KindFile
	if op == "exec" {
		kind = events.KindExec
	}
	e := events.Event{Kind: kind, Op: op, Path: path, Verdict: v, Rule: d.Rule, Reason: d.Reason}
	e.Reason += a.guessedDir.reason()
	if a.callerUnread {
		// needsCaller let the call go on unread, yet it makes an event (a script's interpreter
		// the policy refuses: the exec failed, and its caller is what it was while it lives).
		a.proc, a.callerUnread = j.procs.lookup(a.pid), false
	}
	if a.proc != nil {
		e.Process, e.Exe = a.proc.String(), a.proc.exe
		e.Chain = j.procs.chain(a.proc, int(j.stagePid.Load()))
	}
	j.sink.Record(e)
}

// close ends the judge's work once the notifier has handed over its last access.
func (j *fileJudge) close() { j.scripts.close() }

// hostHas reports whether the canonical path p (resolved in the agent's view) names something
// on the host, or may: a lookup that opens nothing (O_PATH), follows no symlink and no magic
// link (a symlink on the way counts as "may": recorded rather than missed). It never reaches
// what the agent could not name in its own view but through the host's directories, and
// never opens a FIFO or a device: it is lstat, one step at a time, in the kernel. It runs in
// the judge, not on the notification loop; it can wait only where the host's own lookups
// wait (an automount, a network file system).
func hostHas(p string) bool {
	fd, err := openat2Retry(unix.AT_FDCWD, p, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, unix.RESOLVE_NO_SYMLINKS)
	if err == nil {
		unix.Close(fd)
	}
	return err == nil || err == unix.ELOOP
}
