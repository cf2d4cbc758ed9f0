package launcher

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/events/store"
)

// runRecord is one run's record in the event store. In enforce mode the store stays off the
// launch: it is opened once the agent runs (platform.Spec.Started), or at the run's first
// event or its end if those come first, and the run is recorded with the time it started.
// Audit mode, whose record is the point of the run, opens it before the launch.
type runRecord struct {
	once  sync.Once
	ready chan struct{} // closed once st, run and err are set
	st    *store.Store
	run   *store.Run
	err   error
	info  store.RunInfo
}

// startRecord prepares this run's record; begin (or the first event, or end) opens the store.
func startRecord(plan *Plan, runID string, opts RunOptions) *runRecord {
	mode := string(plan.Policy.Mode)
	if opts.Trace {
		mode += "+trace"
	}
	return &runRecord{
		ready: make(chan struct{}),
		info:  store.RunInfo{ID: runID, Profile: plan.Policy.Name, Mode: mode, Command: plan.Command, Started: time.Now()},
	}
}

// begin opens the store and begins the run's record, once.
func (r *runRecord) begin() {
	r.once.Do(func() {
		defer close(r.ready)
		st, err := store.OpenUser()
		if err != nil {
			r.err = err
			return
		}
		if r.run, err = st.BeginRun(r.info); err != nil {
			st.Close()
			r.err = fmt.Errorf("recording the run in %s: %w", st.Path(), err)
			return
		}
		r.st = st
	})
}

// wait opens the store if need be and says whether the run is recorded.
func (r *runRecord) wait() error {
	r.begin()
	<-r.ready
	return r.err
}

// Record stores e (once the store is open; dropped when it could not be).
func (r *runRecord) Record(e events.Event) {
	if r.wait() == nil {
		r.run.Record(e)
	}
}

// end records the run's end and leaves the store (agentrun exits next: see store.Leave), and
// reports whether the run's events are stored, and with what counts; what went wrong is said
// on stderr.
func (r *runRecord) end(code int, stderr io.Writer) (store.RunInfo, bool) {
	if err := r.wait(); err != nil {
		fmt.Fprintf(stderr, "agentrun: %v; this run's events are not stored\n", err)
		return store.RunInfo{}, false
	}
	defer r.st.Leave()
	if err := r.run.End(code); err != nil {
		fmt.Fprintf(stderr, "agentrun: storing the run's events in %s: %v\n", r.st.Path(), err)
		return r.run.Info(), false
	}
	return r.run.Info(), true
}

// capLines are the summary's sentences about what the store and the events file did not keep
// one by one, "" when they kept everything.
func capLines(info store.RunInfo, unwritten int, eventsFile string) []string {
	var out []string
	if info.Capped > 0 {
		out = append(out, fmt.Sprintf("%s more events were only counted, not recorded individually (cap %s groups per run, %s per profile; agentrun report counts them)",
			display.Thousands(info.Capped), display.Thousands(store.DefaultMaxRunAggregates), display.Thousands(store.DefaultMaxProfileAggregates)))
	}
	if info.Dropped > 0 {
		out = append(out, fmt.Sprintf("%s events were counted in their groups but not stored one by one (cap %s events or %d MiB per run)",
			display.Thousands(info.Dropped), display.Thousands(store.DefaultMaxRunEvents), store.DefaultMaxRunEventBytes>>20))
	}
	if unwritten > 0 {
		out = append(out, fmt.Sprintf("%s events were not written to %s (cap %d MiB per run)", display.Thousands(unwritten), eventsFile, eventsFileLimit>>20))
	}
	return out
}

// eventsFileLimit is how many bytes of JSON lines one run writes to --events FILE at most:
// an agent making events as fast as it can must not fill the disk.
const eventsFileLimit = 1 << 30
