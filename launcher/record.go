package launcher

import (
	"fmt"
	"io"
	"strconv"
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
		st, err := store.OpenUser()
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
// are stored, and with what counts; what went wrong is said on stderr.
func (r *runRecord) end(code int, stderr io.Writer) (store.RunInfo, bool) {
	if err := r.wait(); err != nil {
		fmt.Fprintf(stderr, "agentrun: %v; this run's events are not stored\n", err)
		return store.RunInfo{}, false
	}
	defer r.st.Close()
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
			thousands(info.Capped), thousands(store.DefaultMaxRunAggregates), thousands(store.DefaultMaxProfileAggregates)))
	}
	if info.Dropped > 0 {
		out = append(out, fmt.Sprintf("%s events were counted in their groups but not stored one by one (cap %s events or %d MiB per run)",
			thousands(info.Dropped), thousands(store.DefaultMaxRunEvents), store.DefaultMaxRunEventBytes>>20))
	}
	if unwritten > 0 {
		out = append(out, fmt.Sprintf("%s events were not written to %s (cap %d MiB per run)", thousands(unwritten), eventsFile, eventsFileLimit>>20))
	}
	return out
}

// eventsFileLimit is how many bytes of JSON lines one run writes to --events FILE at most:
// an agent making events as fast as it can must not fill the disk.
const eventsFileLimit = 1 << 30

// thousands is n with commas between groups of three digits: 120,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
