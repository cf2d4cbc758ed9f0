package launcher

import (
	"fmt"
	"io"
	"time"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/events/store"
)

// runRecord is one run's record in the event store. The store is opened beside the launch,
// not before it: the first events come once the sandbox runs, long after the store is ready,
// and the launch does not wait for the disk.
type runRecord struct {
	ready chan struct{} // closed once st, run and err are set
	st    *store.Store
	run   *store.Run
	err   error
}

// startRecord opens the store and begins this run's record in the background.
func startRecord(plan *Plan, runID string, opts RunOptions) *runRecord {
	r := &runRecord{ready: make(chan struct{})}
	go func() {
		defer close(r.ready)
		st, err := OpenStore()
		if err != nil {
			r.err = err
			return
		}
		mode := string(plan.Policy.Mode)
		if opts.Trace {
			mode += "+trace"
		}
		r.run, err = st.BeginRun(store.RunInfo{ID: runID, Profile: plan.Policy.Name, Mode: mode, Command: plan.Command, Started: time.Now()})
		if err != nil {
			st.Close()
			r.err = fmt.Errorf("recording the run in %s: %w", st.Path(), err)
			return
		}
		r.st = st
	}()
	return r
}

// wait waits for the store and says whether the run is recorded.
func (r *runRecord) wait() error {
	<-r.ready
	return r.err
}

// Record stores e (once the store is open; dropped when it could not be).
func (r *runRecord) Record(e events.Event) {
	if r.wait() == nil {
		r.run.Record(e)
	}
}

// end records the run's end and closes the store, and reports whether the run's events
// are stored; what went wrong is said on stderr.
func (r *runRecord) end(code int, stderr io.Writer) bool {
	if err := r.wait(); err != nil {
		fmt.Fprintf(stderr, "agentrun: %v; this run's events are not stored\n", err)
		return false
	}
	defer r.st.Close()
	if err := r.run.End(code); err != nil {
		fmt.Fprintf(stderr, "agentrun: storing the run's events in %s: %v\n", r.st.Path(), err)
		return false
	}
	return true
}
