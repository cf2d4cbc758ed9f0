package linux

import (
	"io"
	"os"
	"sync/atomic"
)

// warmStage is a stage started before the policy is known (see Sandbox.Warm).
type warmStage struct {
	done  chan struct{} // closed once p and err are set
	p     *stageProc
	err   error
	taken atomic.Bool
}

// Warm starts, in the background, the stage of the next Run with this standard I/O, so that
// the stage's start (a process, its namespaces, the run's cgroup, whose first move of a process
// waits for an RCU grace period on cgroup v1) overlaps with resolving the profile and planning
// the run; the stage waits for its configuration, which only Run sends. release ends it if no
// Run took it. Only as root: rootless, the tier is known only once the user namespace is tried.
func (s *Sandbox) Warm(stdin io.Reader, stdout, stderr io.Writer) (release func()) {
	if os.Geteuid() != 0 {
		return func() {}
	}
	w := &warmStage{done: make(chan struct{})}
	root := s.root()
	go func() {
		defer close(w.done)
		if w.err = prepareStateRoot(root); w.err == nil {
			w.p, w.err = launchStage(root, ProbeHost().CgroupLimits, "", stageIO{stdin, stdout, stderr})
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
