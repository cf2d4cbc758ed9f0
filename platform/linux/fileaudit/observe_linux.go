package fileaudit

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/linux/seccompfilter"
	"github.com/agentrun/agentrun/profiles"
)

// Observer serves the sandbox's seccomp notifications: connects and sends, which the unix
// socket gate decides, in every run; and, when events are recorded, file and exec accesses,
// which the notifier lets go on at once and a judge turns into events.
type Observer struct {
	judge *fileJudge // nil when no events are recorded
	gate  *sockGate
	ready chan *notifier
	n     *notifier
	// thread will run the notifier's loop (Serve), made with the observer; Close ends it if
	// Serve never came.
	thread *loopThread
	// refused decodes the kernel's refusals (Refused).
	refused refusals
	// unjudged counts the opens the kernel reported that could not be judged (Opened).
	unjudged atomic.Int64
	// moved runs before a directory moves (SetMoved).
	moved atomic.Pointer[func(tid int)]
	scope Scope
	// serving is set once the sandbox is built (Serve: the stage hands its descriptors over
	// only then): what the kernel refused before is the stage's setting up, beneath the host's
	// root, not the agent's.
	serving atomic.Bool
}

// Observe is the observer of a sandbox whose filter reports the gated calls (GateSockets), and
// with events (spec.Events) the watched ones of scope (AddWatchRules; ScopeOf); Serve then
// takes the notification descriptor. self is this agentrun binary on the host; stagePid is the
// sandbox's PID 1 (the stage), known before anything of the agent's can be reported: its own
// calls are not the agent's, and its root is the sandbox's.
func Observe(pol *profiles.Policy, spec *platform.Spec, scope Scope, self string, stagePid int) *Observer {
	o := &Observer{gate: newSockGate(pol, spec, false), ready: make(chan *notifier, 1), scope: scope, thread: newLoopThread()}
	if spec.Events != nil {
		o.judge = newFileJudge(pol, &fileJudgeSpec{
			audit: pol.Mode == profiles.ModeAudit, trace: spec.Trace, sink: spec.Events, self: self,
		})
		o.gate.procs, o.gate.stagePid = o.judge.procs, &o.judge.stagePid
	}
	o.gate.stagePid.Store(int64(stagePid))
	return o
}

// Serve serves f, the sandbox's notification descriptor, until Close. It may be called from
// any goroutine as soon as the descriptor arrives, once.
func (o *Observer) Serve(f *os.File) {
	// The sandbox's view for the kernel's refusals, from its PID 1 while it lives (it has
	// made its root by now): they are read after their calls, the last ones once the sandbox
	// has ended, and the view holds its root.
	o.refused.mu.Lock()
	if v, err := openView(int(o.gate.stagePid.Load())); err == nil {
		o.refused.own.learn(v)
		v.close()
	}
	o.refused.mu.Unlock()
	o.serving.Store(true)
	n, err := newNotifier(f, o.gate.procs, o.judge, o.gate, &o.moved, o.thread)
	if err != nil {
		n = nil
	}
	o.ready <- n
}

// SetEnforceView tells the judge of an audit run what enforce mode's view shows
// (fsplan.Plan.Visible of the enforce plan): audit mode's view is the host's, and a call on a
// path enforce mode hides is judged as if the path were not there.
func (o *Observer) SetEnforceView(visible func(string) bool) {
	if o.judge != nil && o.judge.audit {
		o.judge.visible = visible
	}
}

// SetMoved makes the notifier run f, with the calling thread (as agentrun's PID namespace
// numbers it), before a call of the sandbox that moves or removes a directory goes on (audit
// mode as root: the recorder of opened files forgets the directories it knew, whose paths may
// change, and again once the call is done). It may be called at any time, from any goroutine.
func (o *Observer) SetMoved(f func(tid int)) { o.moved.Store(&f) }

// SetPinned gives the file judge the mount plan's pins (fsplan.Plan.PinnedRules), for the
// events of a rename or removal the kernel refuses.
func (o *Observer) SetPinned(pinned map[string]string) {
	if o.judge != nil {
		o.judge.pinned = pinned
	}
}

// newSockGate is the gate for pol; direct is the Landlock + seccomp tier.
func newSockGate(pol *profiles.Policy, spec *platform.Spec, direct bool) *sockGate {
	g := &sockGate{
		direct: direct, audit: pol.Mode == profiles.ModeAudit, trace: spec.Trace,
		named: namedSockets(pol),
		procs: newProcTable(), stagePid: new(atomic.Int64), asRoot: os.Geteuid() == 0,
	}
	if spec.Events != nil {
		g.record = spec.Events.Record
	}
	return g
}

// Started tells the observer the sandbox runs: its notifications are served.
func (o *Observer) Started() error {
	select {
	case n := <-o.ready:
		if n == nil {
			return fmt.Errorf("serving the sandbox's seccomp notifications failed")
		}
		o.n = n
	case <-time.After(10 * time.Second):
		return fmt.Errorf("the sandbox's seccomp notification descriptor did not arrive")
	}
	return nil
}

// Close stops observing once the sandbox has ended (and no descriptor can arrive any more),
// after every access reported so far has been judged.
func (o *Observer) Close() {
	o.thread.Start(nil) // a thread whose notifier never came ends (a served one is running)
	if o.n == nil {
		select {
		case n := <-o.ready:
			o.n = n
		default:
		}
	}
	if o.n != nil {
		o.n.Close()
	}
	if o.judge != nil {
		o.judge.close()
	}
	if o.n != nil {
		o.n.own.close()
	}
	o.refused.mu.Lock()
	o.refused.own.close()
	o.refused.mu.Unlock()
}

// UnreadScripts is how many of the programs the sandbox ran were not read for a #! line
// (scriptReader): the interpreters they name were not judged. It is final once Close returns.
func (o *Observer) UnreadScripts() int64 {
	if o.judge == nil {
		return 0
	}
	return o.judge.scripts.unread.Load()
}

// Scope is which calls a sandbox's filter reports to agentrun for its events.
type Scope int

const (
	// WatchNothing: no events are recorded.
	WatchNothing Scope = iota
	// WatchExecs: execs only: enforce mode's, where no file call waits for agentrun (the
	// mounts and Landlock enforce in the kernel). Where agentrun may load the kernel's
	// recorder of refused calls (kdenials, Refused; root), every file call it refuses, read
	// or write, is reported by the kernel after the call and judged; elsewhere (rootless)
	// enforce mode's denials are not recorded, and the run says so (platform.NoDenialRecords).
	WatchExecs
	// WatchKernelReads: audit mode where agentrun may load its BPF recorders (root). The
	// filter reports execs and the calls that write (an open for writing, creating or
	// truncating; mkdir, rename, unlink, link, chmod and the like); the opens that read come from the
	// kernel after the call, each judged as the notifier would have judged it: those that
	// succeed from the recorder of opened files (kopens, Opened), those refused from the
	// recorder of refusals (kdenials, Refused). No read waits for agentrun.
	WatchKernelReads
	// WatchFiles: every file and exec call. Audit mode judges each one as enforce mode
	// would, and --trace records each one.
	WatchFiles
)

// ScopeOf is the scope of a run of pol with spec; kernelReads says that the kernel's recorder
// of reads (kopens) is loaded, for audit mode. Enforce mode's scope is WatchExecs whether or
// not the recorder of refused calls (kdenials) could be loaded: its denials are recorded
// where the kernel reports them, and never at the cost of a file call waiting.
func ScopeOf(pol *profiles.Policy, spec *platform.Spec, kernelReads bool) Scope {
	switch {
	case spec.Events == nil:
		return WatchNothing
	case spec.Trace:
		return WatchFiles // every call, allowed ones too, while it waits
	case pol.Mode == profiles.ModeAudit && kernelReads:
		return WatchKernelReads
	case pol.Mode == profiles.ModeAudit:
		return WatchFiles
	}
	return WatchExecs
}

// Report is what the sandbox's seccomp filter reports in scope s.
func (s Scope) Report() seccompfilter.Report {
	switch s {
	case WatchNothing:
		return seccompfilter.ReportNothing
	case WatchExecs:
		return seccompfilter.ReportExecs
	case WatchFiles:
		return seccompfilter.ReportAll
	}
	return seccompfilter.ReportWrites // WatchKernelReads: the reads come from the kernel
}

// writes reports whether a call of c with open flags is one WatchKernelReads reports.
func (c watchedCall) writes(flags uint64) bool {
	switch {
	case c.op == "exec":
		return false
	case c.op != "open":
		return true // every other watched call changes something
	case c.flags < 0:
		return c.access == profiles.AccessWrite // creat; openat2, whose flags are in memory, is ENOSYS
	}
	return seccompfilter.OpenWrites(flags)
}

// GateDirect serves the Landlock + seccomp tier's notification descriptor f with the unix
// socket gate alone (that tier records no file events); stagePid is the stage's PID. Close
// the result once the sandbox has ended.
func GateDirect(f *os.File, pol *profiles.Policy, spec *platform.Spec, stagePid int) (io.Closer, error) {
	gate := newSockGate(pol, spec, true)
	gate.stagePid.Store(int64(stagePid))
	n, err := newNotifier(f, gate.procs, nil, gate, new(atomic.Pointer[func(tid int)]), nil)
	if err != nil {
		return nil, err
	}
	return closer(n.Close), nil
}

type closer func()

func (c closer) Close() error { c(); return nil }
