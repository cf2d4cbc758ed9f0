package fileaudit

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform"
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
	o := &Observer{gate: newSockGate(pol, spec, false), ready: make(chan *notifier, 1), scope: scope}
	if spec.Events != nil {
		o.judge = newFileJudge(pol, &fileJudgeSpec{
			audit: pol.Mode == profiles.ModeAudit, trace: spec.Trace, sink: spec.Events, self: self,
		})
		o.gate.procs, o.gate.stagePid = o.judge.procs, &o.judge.stagePid
		if spec.GitWatch != nil && o.scope >= WatchWrites {
			// Every write the agent makes reaches the judge from now on.
			o.judge.git = spec.GitWatch
			spec.GitWatch.Watching.Store(true)
		}
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
	var handle func(*fileAccess)
	if o.judge != nil {
		handle = o.judge.judge
	}
	n, err := newNotifier(f, o.gate.procs, handle, o.gate, &o.moved)
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

// GateSockets makes the filter report the calls that may reach a unix socket by its path:
// connect, sendto with an address (without one it goes to the connected peer), and sendmsg
// and sendmmsg, whose address is behind a pointer the filter cannot follow.
//
// The send rules come in pairs, MSG_FASTOPEN clear and set, rather than one rule without
// conditions: libseccomp lets a rule without conditions override every conditional rule of
// the same call, which would undo the Landlock + seccomp tier's denial of TCP Fast Open (see
// inetRules). Where that denial is in the filter (fastOpenDenied), the set half is left to it;
// elsewhere it is gated too, since a unix datagram send ignores the flag.
func GateSockets(s *configs.Seccomp, fastOpenDenied bool) {
	s.Syscalls = append(s.Syscalls, &configs.Syscall{Name: "connect", Action: configs.Notify})
	fastOpen := []uint64{0}
	if !fastOpenDenied {
		fastOpen = append(fastOpen, unix.MSG_FASTOPEN)
	}
	for _, fo := range fastOpen {
		flags := func(i uint) *configs.Arg {
			return &configs.Arg{Index: i, Op: configs.MaskEqualTo, Value: unix.MSG_FASTOPEN, ValueTwo: fo}
		}
		s.Syscalls = append(s.Syscalls,
			&configs.Syscall{Name: "sendto", Action: configs.Notify, Args: []*configs.Arg{flags(3), {Index: 4, Op: configs.NotEqualTo, Value: 0}}},
			&configs.Syscall{Name: "sendmsg", Action: configs.Notify, Args: []*configs.Arg{flags(2)}},
			&configs.Syscall{Name: "sendmmsg", Action: configs.Notify, Args: []*configs.Arg{flags(3)}},
		)
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

// Scope is which calls a sandbox's filter reports to agentrun for its events.
type Scope int

const (
	// WatchNothing: no events are recorded.
	WatchNothing Scope = iota
	// WatchWrites: execs and the calls that write (an open for writing, creating or
	// truncating; mkdir, rename, unlink, link, chmod and the like). Enforce mode's scope: no
	// read — what file-heavy tools do all day (rg, grep, git status, node's require) — waits
	// for agentrun; the kernel enforces reads, and their denials are the kernel's to report
	// (the denial records layer). Writes are far fewer, and seeing them records their
	// denials on every host and tells whether the agent touched git's control files.
	WatchWrites
	// WatchKernelReads: audit mode where agentrun may load its BPF recorders (root). The
	// filter reports what it reports in WatchWrites; the opens that read come from the
	// kernel after the call, each judged as the notifier would have judged it: those that
	// succeed from the recorder of opened files (kopens, Opened), those refused from the
	// recorder of refusals (kdenials, Refused). No read waits for agentrun.
	WatchKernelReads
	// WatchFiles: every file and exec call. Audit mode judges each one as enforce mode
	// would, and --trace records each one.
	WatchFiles
)

// ScopeOf is the scope of a run of pol with spec; kernelReads says that the kernel's recorder
// of reads (kopens) is loaded, for audit mode.
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
	return WatchWrites
}

// notifiesReads says whether the filter of scope reports the opens that only read.
func (s Scope) notifiesReads() bool { return s == WatchFiles }

// writeFlags are the open flags any of which makes an open a write.
var writeFlags = []uint64{unix.O_WRONLY, unix.O_RDWR, unix.O_CREAT, unix.O_TRUNC, unix.O_TMPFILE &^ unix.O_DIRECTORY}

// openWrites reports whether an open with flags writes: the filter's test in enforce mode
// (AddWatchRules) and the judge's (decodeCall).
func openWrites(flags uint64) bool {
	for _, f := range writeFlags {
		if flags&f != 0 {
			return true
		}
	}
	return false
}

// writes reports whether a call of c with open flags is one WatchWrites reports.
func (c watchedCall) writes(flags uint64) bool {
	switch {
	case c.op == "exec":
		return false
	case c.op != "open":
		return true // every other watched call changes something
	case c.flags < 0:
		return c.access == profiles.AccessWrite // creat; openat2, whose flags are in memory, is ENOSYS
	}
	return openWrites(flags)
}

// AddWatchRules makes filter s report the calls of scope. A rule without conditions would take
// precedence over s's denials of the same call (libseccomp lets it), so a watched call that s
// denies for some arguments is reported only for the others.
func AddWatchRules(s *configs.Seccomp, scope Scope) {
	for _, c := range watchedCalls {
		sc := &configs.Syscall{Name: c.name, Action: configs.Notify}
		switch {
		case c.flags >= 0 && !scope.notifiesReads():
			// Only an open that writes, one rule for each flag that makes it one (rules of
			// one call and one action are alternatives). Those that create are reported
			// without a set-ID bit in their mode: the filter's denials of the rest (see
			// setIDRules) start with the same test, which libseccomp will not have both end
			// a rule and go on.
			for _, f := range writeFlags {
				args := []*configs.Arg{{Index: uint(c.flags), Op: configs.MaskEqualTo, Value: f, ValueTwo: f}}
				if f == unix.O_CREAT || f == unix.O_TMPFILE&^unix.O_DIRECTORY {
					args = append(args, &configs.Arg{Index: uint(c.flags + 1), Op: configs.MaskEqualTo, Value: unix.S_ISUID | unix.S_ISGID, ValueTwo: 0})
				}
				s.Syscalls = append(s.Syscalls, &configs.Syscall{Name: c.name, Action: configs.Notify, Args: args})
			}
			continue
		case c.flags >= 0:
			// O_PATH opens only make a handle (Landlock's rules are hundreds of them at
			// start): the filter lets them through without a round trip.
			sc.Args = []*configs.Arg{{Index: uint(c.flags), Op: configs.MaskEqualTo, Value: unix.O_PATH, ValueTwo: 0}}
		case c.name == "execveat":
			// execveat of a descriptor is denied (see seccompConfig).
			sc.Args = []*configs.Arg{{Index: uint(c.empty), Op: configs.MaskEqualTo, Value: unix.AT_EMPTY_PATH, ValueTwo: 0}}
		}
		s.Syscalls = append(s.Syscalls, sc)
	}
}

// GateDirect serves the Landlock + seccomp tier's notification descriptor f with the unix
// socket gate alone (that tier records no file events); stagePid is the stage's PID. Close
// the result once the sandbox has ended.
func GateDirect(f *os.File, pol *profiles.Policy, spec *platform.Spec, stagePid int) (io.Closer, error) {
	gate := newSockGate(pol, spec, true)
	gate.stagePid.Store(int64(stagePid))
	n, err := newNotifier(f, gate.procs, nil, gate, new(atomic.Pointer[func(tid int)]))
	if err != nil {
		return nil, err
	}
	return closer(n.Close), nil
}

type closer func()

func (c closer) Close() error { c(); return nil }
