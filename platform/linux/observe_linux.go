package linux

import (
	"fmt"
	"os"
	"time"

	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
)

// observer records the sandbox's file and exec accesses: the seccomp filter reports the
// watched calls to a notifier, which lets them go on at once, and a judge turns them into
// events.
type observer struct {
	judge  *fileJudge
	ready  chan *notifier
	n      *notifier
	closeL func()
}

// observe makes the filter report the watched calls to a socket at socketPath and starts
// listening there.
func observe(s *configs.Seccomp, socketPath string, pol *profiles.Policy, spec *platform.Spec, self string) (*observer, error) {
	addWatchRules(s)
	s.ListenerPath = socketPath
	o := &observer{
		judge: newFileJudge(pol, &fileJudgeSpec{
			audit: pol.Mode == profiles.ModeAudit, trace: spec.Trace, sink: spec.Events, runID: spec.RunID, self: self,
		}),
		ready: make(chan *notifier, 1),
	}
	closeL, err := listenSeccomp(socketPath, func(f *os.File) {
		n, err := newNotifier(f, o.judge.procs, o.judge.judge)
		if err != nil {
			n = nil
		}
		o.ready <- n
	})
	if err != nil {
		return nil, err
	}
	o.closeL = closeL
	return o, nil
}

// started tells the observer the sandbox runs, with its PID 1 (the stage) at stagePid.
func (o *observer) started(stagePid int) error {
	select {
	case n := <-o.ready:
		if n == nil {
			return fmt.Errorf("serving the sandbox's seccomp notifications failed")
		}
		o.n = n
	case <-time.After(10 * time.Second):
		return fmt.Errorf("the sandbox's seccomp notification descriptor did not arrive")
	}
	o.judge.stagePid.Store(int64(stagePid))
	return nil
}

// Close stops observing once the sandbox has ended, after every access reported so far has
// been judged.
func (o *observer) Close() {
	o.closeL()
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
}

// addWatchRules makes filter s report the watched calls. A rule without conditions would take
// precedence over s's denials of the same call (libseccomp lets it), so a watched call that s
// denies for some arguments is reported only for the others.
func addWatchRules(s *configs.Seccomp) {
	for _, c := range watchedCalls {
		sc := &configs.Syscall{Name: c.name, Action: configs.Notify}
		switch {
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
