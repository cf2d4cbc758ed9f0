package launcher

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/events/store"
)

// runRecord is one run's record in the event store. In enforce mode the database stays off the
// run until its first event: the run's start and end are lines in the store's run journal
// (store.JournalBegin), which the next opening of the store imports; the first event opens
// the database and records the run there. Audit mode, whose record is the point of the run,
// opens it before the launch.
type runRecord struct {
	once   sync.Once
	begun  atomic.Bool   // begin has been called: the database is (being) opened
	ready  chan struct{} // closed once st, run and err are set
	st     *store.Store
	run    *store.Run
	err    error
	info   store.RunInfo
	noted  chan struct{} // closed once started has written the run's start, if it was called
	noting atomic.Bool
	// storeDir is the store's directory and options, looked up once for the journal.
	storeDir func() (storeDir, error)
}

// storeDir is where the invoking user's store is, and how it is opened (store.UserDir).
type storeDir struct {
	dir  string
	opts store.Options
}

// startRecord prepares this run's record; begin (or the first event, or end) opens the store.
func startRecord(plan *Plan, runID string, opts RunOptions) *runRecord {
	mode := string(plan.Policy.Mode)
	if opts.Trace {
		mode += "+trace"
	}
	return &runRecord{
		ready: make(chan struct{}),
		noted: make(chan struct{}),
		info:  store.RunInfo{ID: runID, Profile: plan.Policy.Name, Mode: mode, Command: plan.Command, Started: time.Now()},
		storeDir: sync.OnceValues(func() (storeDir, error) {
			dir, opts, err := store.UserDir()
			return storeDir{dir, opts}, err
		}),
	}
}

// started records that the agent runs: a line in the run journal, or, where it cannot be
// written, the run begun in the database as its first event would.
func (r *runRecord) started() {
	if !r.noting.CompareAndSwap(false, true) {
		return
	}
	defer close(r.noted)
	if r.begun.Load() {
		return
	}
	d, err := r.storeDir()
	if err == nil {
		err = store.JournalBegin(d.dir, d.opts, r.info)
	}
	if err != nil {
		r.begin()
	}
}

// begin opens the store and begins the run's record, once.
func (r *runRecord) begin() {
	r.begun.Store(true)
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
	if r.noting.Load() {
		<-r.noted
	}
	if !r.begun.Load() {
		// No event: the run's end joins its start in the journal.
		if d, err := r.storeDir(); err == nil {
			if info, full, err := store.JournalEnd(d.dir, d.opts, r.info, code); err == nil {
				if full {
					r.importJournal(stderr)
				}
				return info, true
			}
		}
	}
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

// importJournal opens the store, which imports the run journal, and leaves it.
func (r *runRecord) importJournal(stderr io.Writer) {
	st, err := store.OpenUser()
	if err != nil {
		fmt.Fprintf(stderr, "agentrun: %v; the runs in its journal wait for the next opening\n", err)
		return
	}
	_ = st.Leave()
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
