package linux

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
)

// fileJudge turns the notifier's accesses into events: each is judged by the policy as enforce
// mode would (profiles.CheckFile). What enforce mode denies is recorded as denied (enforce)
// or would-deny (audit); with trace, what it allows is recorded too.
type fileJudge struct {
	pol      *profiles.Policy
	audit    bool
	trace    bool
	sink     events.Sink
	runID    string
	self     string // this agentrun binary on the host
	stagePid atomic.Int64
	procs    *procTable
	canon    func(string) string
	// pinned maps the mount plan's pins (directories that hold protected or denied paths,
	// made mount points so they cannot be moved) to the rule they keep in place.
	pinned map[string]string
	git    *platform.GitWatch // notes writes to git's control files; may be nil
}

func newFileJudge(pol *profiles.Policy, spec *fileJudgeSpec) *fileJudge {
	return &fileJudge{
		pol: pol, audit: spec.audit, trace: spec.trace, sink: spec.sink, runID: spec.runID,
		self: spec.self, canon: profiles.NewCanonicalizer(), procs: newProcTable(),
	}
}

type fileJudgeSpec struct {
	audit, trace bool
	sink         events.Sink
	runID, self  string
}

// sandboxPaths are the sandbox's own: its /proc, /dev, /sys, private /tmp and the stage. The
// policy does not speak of them, and the agent's accesses there are not recorded.
var sandboxPaths = []string{"/proc", "/dev", "/sys", privateTmp, stageDir}

func (j *fileJudge) ours(p *procInfo) bool {
	if p == nil {
		return false
	}
	return p.exe == j.self || p.exe == stageDir+"/agentrun" || strings.HasPrefix(p.exe, "/memfd:")
}

func (j *fileJudge) judge(a fileAccess) {
	if int64(a.pid) == j.stagePid.Load() || (a.op != "exec" && j.ours(a.proc)) {
		return // the stage and libcontainer's init setting the sandbox up
	}
	if a.access == profiles.AccessWrite {
		for _, p := range a.paths {
			j.git.Note(p)
		}
	}
	for i, p := range a.paths {
		// A rename writes to its source and its target.
		j.judgePath(a, p, a.op, a.access, a.exists[i], a.isDir[i])
	}
}

func (j *fileJudge) judgePath(a fileAccess, path, op string, access profiles.Access, exists, isDir bool) {
	for _, s := range sandboxPaths {
		if profiles.Within(path, s) {
			return
		}
	}
	real := j.canonical(path, op)
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
	case "exec", "delete", "write":
		if !exists {
			return
		}
	}
	if rule, ok := j.pinned[real]; ok && (op == "rename" || op == "delete") {
		// The kernel refuses (EBUSY): the directory is a mount point holding a protected path.
		j.record(a, real, op, profiles.AccessDecision{Rule: rule, Reason: "holds a protected path, so it cannot be renamed or removed"})
		return
	}
	d := j.pol.CheckFile(real, access)
	if !d.Allow && access == profiles.AccessRead && isDir && !strings.HasPrefix(d.Rule, "filesystem.deny") {
		// Listing a directory is allowed anywhere; the mounts decide what is in it.
		d = profiles.AccessDecision{Allow: true, Rule: "directory listing"}
	}
	if !d.Allow || j.trace {
		j.record(a, real, op, d)
	}
	if op == "exec" && exists {
		if interp := interpreter(real); interp != "" && interp != real {
			j.judgePath(a, interp, "exec", profiles.AccessExec, true, false)
		}
	}
}

func (j *fileJudge) record(a fileAccess, path, op string, d profiles.AccessDecision) {
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
	e := events.Event{RunID: j.runID, Profile: j.pol.Name, Kind: kind, Op: op, Path: path, Verdict: v, Rule: d.Rule, Reason: d.Reason}
	if a.proc != nil {
		e.Process, e.Exe = a.proc.String(), a.proc.exe
		e.Chain = j.procs.chain(a.proc, int(j.stagePid.Load()))
	}
	j.sink.Record(e)
}

// canonical resolves the symlinks of path's directories (remembered) and, when the call
// follows it, of its last element, as the kernel will.
func (j *fileJudge) canonical(path, op string) string {
	full := filepath.Join(j.canon(filepath.Dir(path)), filepath.Base(path))
	if op == "open" || op == "exec" || op == "write" {
		if fi, err := os.Lstat(full); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			if r, err := filepath.EvalSymlinks(full); err == nil {
				return r
			}
		}
	}
	return full
}

// interpreter is the program a script's #! line names, "" for other files.
func interpreter(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 256)
	n, _ := f.Read(buf)
	line, ok := bytes.CutPrefix(buf[:n], []byte("#!"))
	if !ok {
		return ""
	}
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	fields := strings.Fields(string(line))
	if len(fields) == 0 || !filepath.IsAbs(fields[0]) {
		return ""
	}
	if r, err := filepath.EvalSymlinks(fields[0]); err == nil {
		return r
	}
	return fields[0]
}
