package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentrun/agentrun/events"
)

// How a run's writer batches.
const (
	flushInterval = 50 * time.Millisecond // the longest a recorded event waits to be committed
	batchSize     = 512                   // events queued that make a commit at once
)

// queueSize is how many events a run queues before Record drops them. A variable so that
// a test can fill the queue.
var queueSize = 65536

// Run records one run's events. It is an events.Sink: Record hands the event to the run's
// writer goroutine, which commits batches in a transaction at least every 50 ms, so a
// process killed with SIGKILL loses at most the last ~50 ms of events.
type Run struct {
	s    *Store
	info RunInfo

	mu    sync.RWMutex // held for reading while Record queues, for writing to end
	ended bool
	queue chan events.Event
	lost  atomic.Int64 // events dropped since the last commit: queue full, or a failed commit

	flush    chan chan error
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{} // closed when the writer has returned
	endOnce  sync.Once

	// The writer's own; read by others only after done is closed.
	kept int   // raw events of this run committed
	err  error // the first error committing
}

// BeginRun records the start of a run and starts its writer. info.ID must be new; a zero
// info.Started means now. End the run (or Close the store) to stop the writer.
func (s *Store) BeginRun(info RunInfo) (*Run, error) {
	if info.ID == "" {
		return nil, errors.New("beginning run: no run ID")
	}
	if info.Started.IsZero() {
		info.Started = time.Now()
	}
	info.Ended, info.ExitCode, info.Events, info.Dropped = time.Time{}, 0, 0, 0
	command, err := json.Marshal(info.Command)
	if err != nil {
		return nil, fmt.Errorf("beginning run %s: %w", info.ID, err)
	}
	err = s.withTx(func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO runs (id, profile, mode, command, started) VALUES (?, ?, ?, ?, ?)`,
			info.ID, info.Profile, info.Mode, string(command), nanos(info.Started))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("beginning run %s: %w", info.ID, err)
	}
	r := &Run{
		s:     s,
		info:  info,
		queue: make(chan events.Event, queueSize),
		flush: make(chan chan error),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	s.mu.Lock()
	s.runs[r] = struct{}{}
	s.mu.Unlock()
	go r.write()
	return r, nil
}

// Record queues e for the writer and returns at once. An event without a time gets the
// current time; one without a run ID or profile gets the run's. Record after End is
// ignored; on a full queue the event is dropped and counted in the run's Dropped.
func (r *Run) Record(e events.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.ended {
		return
	}
	select {
	case r.queue <- e:
	default:
		r.lost.Add(1)
	}
}

// Flush waits until every event recorded so far is committed, and returns the first error
// committing this run's events, if any.
func (r *Run) Flush() error {
	reply := make(chan error, 1)
	select {
	case r.flush <- reply:
		return <-reply
	case <-r.done:
		return r.err
	}
}

// End commits what was recorded, records the run's end and exit code, and stops the
// writer. Only the first call has an effect.
func (r *Run) End(exitCode int) error {
	err := r.shutdown()
	r.endOnce.Do(func() {
		ended := time.Now()
		command, merr := json.Marshal(r.info.Command)
		if merr != nil {
			err = errors.Join(err, merr)
			return
		}
		// An upsert, in case Prune took the run while it went on without events.
		uerr := r.s.withTx(func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO runs (id, profile, mode, command, started, ended, exit_code)
				VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET ended = excluded.ended, exit_code = excluded.exit_code`,
				r.info.ID, r.info.Profile, r.info.Mode, string(command), nanos(r.info.Started), nanos(ended), exitCode)
			return err
		})
		if uerr != nil {
			err = errors.Join(err, fmt.Errorf("ending run %s: %w", r.info.ID, uerr))
		}
	})
	return err
}

// shutdown makes Record ignore further events, lets the writer commit what is queued and
// waits for it to return.
func (r *Run) shutdown() error {
	r.mu.Lock() // waits for Records under way, so their events are queued
	r.ended = true
	r.mu.Unlock()
	r.stopOnce.Do(func() { close(r.stop) })
	<-r.done
	r.s.mu.Lock()
	delete(r.s.runs, r)
	r.s.mu.Unlock()
	return r.err
}

// write is the writer goroutine.
func (r *Run) write() {
	defer close(r.done)
	tick := time.NewTicker(flushInterval)
	defer tick.Stop()
	batch := make([]events.Event, 0, batchSize)
	for {
		select {
		case e := <-r.queue:
			batch = r.take(append(batch, e), batchSize-len(batch)-1)
			if len(batch) >= batchSize {
				r.commit(batch)
				batch = batch[:0]
			}
		case <-tick.C:
			r.commit(batch)
			batch = batch[:0]
		case reply := <-r.flush:
			// Everything recorded before Flush was called is in the queue now.
			r.commit(r.take(batch, len(r.queue)))
			batch = batch[:0]
			reply <- r.err
		case <-r.stop:
			r.commit(r.take(batch, len(r.queue)))
			return
		}
	}
}

// take appends up to n queued events to batch without waiting for more.
func (r *Run) take(batch []events.Event, n int) []events.Event {
	for ; n > 0; n-- {
		select {
		case e := <-r.queue:
			batch = append(batch, e)
		default:
			return batch
		}
	}
	return batch
}

// commit writes batch in one transaction: the raw events up to MaxRunEvents, the
// aggregates, and the run's counts. When it fails the batch counts as dropped.
func (r *Run) commit(batch []events.Event) {
	lost := r.lost.Swap(0)
	if len(batch) == 0 && lost == 0 {
		return
	}
	keep := min(len(batch), max(0, r.s.opts.MaxRunEvents-r.kept))
	err := r.s.withTx(func(tx *sql.Tx) error {
		return r.insert(tx, batch, keep, lost)
	})
	if err != nil {
		if r.err == nil {
			r.err = fmt.Errorf("recording events of run %s: %w", r.info.ID, err)
		}
		r.lost.Add(lost + int64(len(batch)))
		return
	}
	r.kept += keep
}

// aggKey is an aggregate's primary key.
type aggKey struct {
	profile, kind, op, target, verdict, rule, exe string
}

type aggDelta struct {
	count, first, last int64
	example            string
}

func (r *Run) insert(tx *sql.Tx, batch []events.Event, keep int, lost int64) error {
	command, err := json.Marshal(r.info.Command)
	if err != nil {
		return err
	}
	// First the run, which the raw events reference; it is there unless Prune took it.
	_, err = tx.Exec(`INSERT INTO runs (id, profile, mode, command, started, events, dropped)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET events = events + excluded.events, dropped = dropped + excluded.dropped`,
		r.info.ID, r.info.Profile, r.info.Mode, string(command), nanos(r.info.Started),
		keep, lost+int64(len(batch)-keep))
	if err != nil {
		return fmt.Errorf("updating run: %w", err)
	}
	raw, err := tx.Prepare(`INSERT INTO events (run_id, time, profile, verdict, kind, event) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer raw.Close()
	aggs := map[aggKey]*aggDelta{}
	for i, e := range batch {
		if e.RunID == "" {
			e.RunID = r.info.ID
		}
		if e.Profile == "" {
			e.Profile = r.info.Profile
		}
		js, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encoding event: %w", err)
		}
		t := nanos(e.Time)
		if i < keep {
			if _, err := raw.Exec(r.info.ID, t, e.Profile, string(e.Verdict), string(e.Kind), string(js)); err != nil {
				return fmt.Errorf("inserting event: %w", err)
			}
		}
		op, target := aggregateKey(e)
		k := aggKey{e.Profile, string(e.Kind), op, target, string(e.Verdict), e.Rule, e.Exe}
		a := aggs[k]
		if a == nil {
			aggs[k] = &aggDelta{count: 1, first: t, last: t, example: string(js)}
			continue
		}
		a.count++
		a.first = min(a.first, t)
		if t >= a.last {
			a.last, a.example = t, string(js)
		}
	}
	up, err := tx.Prepare(`INSERT INTO aggregates (profile, kind, op, target, verdict, rule, exe, count, first, last, example)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (profile, kind, op, target, verdict, rule, exe) DO UPDATE SET
			count = count + excluded.count,
			first = min(first, excluded.first),
			last = max(last, excluded.last),
			example = CASE WHEN excluded.last >= last THEN excluded.example ELSE example END`)
	if err != nil {
		return err
	}
	defer up.Close()
	for k, a := range aggs {
		if _, err := up.Exec(k.profile, k.kind, k.op, k.target, k.verdict, k.rule, k.exe,
			a.count, a.first, a.last, a.example); err != nil {
			return fmt.Errorf("updating aggregate: %w", err)
		}
	}
	return nil
}
