package linux

import (
	"io"
	"sync/atomic"

	"github.com/agentrun/agentrun/platform/steps"
)

// warmStage is a stage started before the policy is known (see Sandbox.Warm).
type warmStage struct {
	known chan struct{} // closed once lh is set
	lh    *launchHost
	done  chan struct{} // closed once p and err are set
	p     *stageProc
	err   error
	taken atomic.Bool
}

// Warm starts, in the background, the stage of the next Run with this standard I/O, so that
// the stage's start (a process, its namespaces, the run's cgroup, whose first move of a process
// waits for an RCU grace period) overlaps with resolving the profile and planning the run; the
// stage waits for its configuration, which only Run sends. release ends it if no Run took it.
// Where the host's settings rule namespaces out, nothing starts.
func (s *Sandbox) Warm(stdin io.Reader, stdout, stderr io.Writer) (release func()) {
	w := &warmStage{known: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		w.lh = s.launchHost()
		close(w.known)
		if lh := w.lh; lh.rootErr == nil && (lh.h.Root || lh.h.UserNS) {
			steps.Step("stage starting")
			w.p, w.err = launchStage(lh.root, lh.h.CgroupLimits, lh.delegated, predictedIDMap(lh.h), stageIO{stdin, stdout, stderr})
			steps.Step("stage started")
		}
	}()
	s.warm = w
	return w.discard
}

// root is the state root of the sandbox's runs.
func (s *Sandbox) root() string {
	if s.StateRoot != "" {
		return s.StateRoot
	}
	return DefaultStateRoot()
}

// takeWarm takes the warm stage, if there is one.
func (s *Sandbox) takeWarm() *warmStage {
	w := s.warm
	s.warm = nil
	return w
}

// host is what the warm start learnt of the host, nil without one.
func (w *warmStage) host() *launchHost {
	if w == nil {
		return nil
	}
	<-w.known
	return w.lh
}

// stage is the warm stage once started, or nil with the reason it could not be (or nil, nil
// for no warm stage): Run then starts one itself.
func (w *warmStage) stage() (*stageProc, error) {
	if w == nil || !w.taken.CompareAndSwap(false, true) {
		return nil, nil
	}
	<-w.done
	return w.p, w.err
}

// discard ends the warm stage unless a Run took it.
func (w *warmStage) discard() {
	if w == nil || !w.taken.CompareAndSwap(false, true) {
		return
	}
	<-w.done
	if w.p != nil {
		w.p.close()
	}
}
