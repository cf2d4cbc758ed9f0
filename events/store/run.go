package store

import (
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/agentrun/agentrun/events"
)

// How a run's writer batches.
const (
	flushInterval = 50 * time.Millisecond // the longest a recorded event waits to be committed
	batchSize     = 512                   // raw events pending that make a commit at once
)

// Run records one run's events. It is an events.Sink: Record counts the event in the run's
// pending aggregates (and keeps it as a raw event while the run may keep more), and the
// run's writer goroutine commits what is pending in one transaction at least every 50 ms, so
// a process killed with SIGKILL loses at most the last ~50 ms of events.
//
// What is pending is bounded whatever the agent does: at most MaxRunEvents raw events
// (MaxRunEventBytes of JSON) over the whole run, and one pending aggregate for each of at
// most MaxRunAggregates groups (and MaxRunAggregateBytes); an event in a further group is
// only counted, in the profile's overflow (see [Store.Overflow]).
type Run struct {
	s    *Store
	info RunInfo
	seed maphash.Seed

	mu        sync.Mutex
	ended     bool
	raw       []pendingEvent         // raw events not yet committed
	aggs      map[aggKey]*aggDelta   // aggregate deltas not yet committed
	over      map[overKey]*overDelta // overflow not yet committed
	groups    map[uint64]struct{}    // the groups this run counts one by one (hashes of aggKey)
	groupSize int64                  // their keys' and first examples' bytes
	rawN      int                    // raw events taken over the run
	rawSize   int64                  // their JSON's bytes
	notRaw    int64                  // events past MaxRunEvents not yet added to Dropped
	capped    int64                  // events counted in the overflow not yet added to Capped
	lost      int64                  // events whose commit failed, not yet added to Dropped
	wake      chan struct{}          // a commit is due before the next tick

	flush    chan chan error
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{} // closed when the writer has returned
	endOnce  sync.Once

	// The writer's own; read by others only after done is closed.
	totals RunInfo // Events, Dropped and Capped committed
	err    error   // the first error committing
}

type pendingEvent struct {
	e  events.Event
	js string
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
	info.Ended, info.ExitCode, info.Events, info.Dropped, info.Capped = time.Time{}, 0, 0, 0, 0
	command, err := json.Marshal(info.Command)
	if err != nil {
		return nil, fmt.Errorf("beginning run %s: %w", info.ID, err)
	}
	err = s.withTx(func(tx *sql.Tx) error {
		// Its start may be in the database already, from the run journal (see JournalBegin).
		_, err := tx.Exec(`INSERT INTO runs (id, profile, mode, command, started) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`,
			info.ID, info.Profile, info.Mode, string(command), nanos(info.Started))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("beginning run %s: %w", info.ID, err)
	}
	r := &Run{
		s:      s,
		info:   info,
		seed:   maphash.MakeSeed(),
		aggs:   map[aggKey]*aggDelta{},
		over:   map[overKey]*overDelta{},
		groups: map[uint64]struct{}{},
		wake:   make(chan struct{}, 1),
		flush:  make(chan chan error),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	s.mu.Lock()
	s.runs[r] = struct{}{}
	s.mu.Unlock()
	go r.write()
	return r, nil
}

// Record counts e for the writer and returns at once; it never blocks on the database. An
// event without a time gets the current time; one without a run ID or profile gets the run's.
// Its strings are bounded (events.Event.Bounded). Record after End is ignored.
func (r *Run) Record(e events.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.RunID == "" {
		e.RunID = r.info.ID
	}
	if e.Profile == "" {
		e.Profile = r.info.Profile
	}
	e = e.Bounded()
	js, err := json.Marshal(e)
	if err != nil { // not for an Event; counted as lost
		r.mu.Lock()
		r.lost++
		r.mu.Unlock()
		return
	}
	op, target := aggregateKey(e)
	k := aggKey{e.Profile, string(e.Kind), op, target, string(e.Verdict), e.Rule, e.Exe}
	t := nanos(e.Time)
	opts := r.s.opts

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return
	}
	if r.rawN < opts.MaxRunEvents && r.rawSize+int64(len(js)) <= opts.MaxRunEventBytes {
		r.raw = append(r.raw, pendingEvent{e, string(js)})
		r.rawN++
		r.rawSize += int64(len(js))
		if len(r.raw) >= batchSize {
			select {
			case r.wake <- struct{}{}:
			default:
			}
		}
	} else {
		r.notRaw++
	}
	h := k.hash(r.seed)
	if _, ok := r.groups[h]; !ok {
		size := pageSpace(k.size() + int64(min(len(js), maxExample)))
		if len(r.groups) >= opts.MaxRunAggregates || r.groupSize+size > opts.MaxRunAggregateBytes {
			r.capped++
			addOverflow(r.over, overKey{e.Profile, string(e.Kind), string(e.Verdict)}, 1, t, t)
			return
		}
		r.groups[h] = struct{}{}
		r.groupSize += size
	}
	a := r.aggs[k]
	if a == nil {
		r.aggs[k] = &aggDelta{count: 1, first: t, last: t, example: example(e, js)}
		return
	}
	a.count++
	a.first = min(a.first, t)
	if t >= a.last {
		a.last = t
		a.example = example(e, js)
	}
}

// example is what an aggregate keeps of its latest event: the event's JSON, shortened to
// maxExample bytes by leaving out the process chain, then the process, reason and the
// strings the aggregate's key holds anyway.
func example(e events.Event, js []byte) string {
	if len(js) <= maxExample {
		return string(js)
	}
	e.Chain = nil
	if b, err := json.Marshal(e); err == nil && len(b) <= maxExample {
		return string(b)
	}
	e.Process, e.Reason, e.Path, e.Name, e.Exe = "", "", "", "", ""
	b, _ := json.Marshal(e)
	return string(b)
}

// maxExample is the most bytes of JSON an aggregate's example keeps.
const maxExample = 1024

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

// Info is the run as recorded, with its counts of events kept, dropped and capped; call it
// after End (before, it is the run as begun, without counts).
func (r *Run) Info() RunInfo {
	select {
	case <-r.done:
		return r.totals
	default:
		return r.info
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
		r.totals.Ended, r.totals.ExitCode = ended, exitCode
	})
	return err
}

// shutdown makes Record ignore further events, lets the writer commit what is pending and
// waits for it to return.
func (r *Run) shutdown() error {
	r.mu.Lock() // waits for Records under way, so their events are pending
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
	r.totals = r.info
	tick := time.NewTicker(flushInterval)
	defer tick.Stop()
	for {
		select {
		case <-r.wake:
			r.commit()
		case <-tick.C:
			r.commit()
		case reply := <-r.flush:
			// Everything recorded before Flush was called is pending now.
			r.commit()
			reply <- r.err
		case <-r.stop:
			r.commit()
			return
		}
	}
}

// pending is what a commit writes, taken from the run at once.
type pending struct {
	raw                  []pendingEvent
	aggs                 map[aggKey]*aggDelta
	over                 map[overKey]*overDelta
	notRaw, capped, lost int64
}

func (p *pending) empty() bool {
	return len(p.raw) == 0 && len(p.aggs) == 0 && len(p.over) == 0 && p.notRaw == 0 && p.capped == 0 && p.lost == 0
}

func (r *Run) take() *pending {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := &pending{raw: r.raw, aggs: r.aggs, over: r.over, notRaw: r.notRaw, capped: r.capped, lost: r.lost}
	if p.empty() {
		return p
	}
	r.raw, r.aggs, r.over = nil, map[aggKey]*aggDelta{}, map[overKey]*overDelta{}
	r.notRaw, r.capped, r.lost = 0, 0, 0
	return p
}

// commit writes what is pending in one transaction: the raw events, the aggregates (those
// the profile has no room for go to its overflow), and the run's counts. When it fails, the
// events are lost, and its raw events count as dropped in the next commit.
func (r *Run) commit() {
	p := r.take()
	if p.empty() {
		return
	}
	var capped int64
	err := r.s.withTx(func(tx *sql.Tx) error {
		var err error
		capped, err = r.insert(tx, p)
		return err
	})
	if err != nil {
		if r.err == nil {
			r.err = fmt.Errorf("recording events of run %s: %w", r.info.ID, err)
		}
		r.mu.Lock()
		r.lost += p.lost + p.notRaw + int64(len(p.raw)) // not kept as raw events
		r.mu.Unlock()
		return
	}
	r.totals.Events += len(p.raw)
	r.totals.Dropped += int(p.notRaw + p.lost)
	r.totals.Capped += int(capped)
}

// aggKey is an aggregate's primary key.
type aggKey struct {
	profile, kind, op, target, verdict, rule, exe string
}

type aggDelta struct {
	count, first, last int64
	example            string
}

// pageSpace is about how many bytes of the database an aggregate of n bytes takes: SQLite
// keeps about 1000 bytes of a row of a table without rowid in its b-tree page and the rest
// in overflow pages of 4096 bytes, each the row's own.
func pageSpace(n int64) int64 {
	const local, page = 1000, 4096
	if n <= local {
		return n
	}
	return local + (n-local+page-5)/(page-4)*page
}

// size is how many bytes k's strings take.
func (k aggKey) size() int64 {
	return int64(len(k.profile) + len(k.kind) + len(k.op) + len(k.target) + len(k.verdict) + len(k.rule) + len(k.exe))
}

// hash is k's hash with seed.
func (k aggKey) hash(seed maphash.Seed) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	for _, f := range []string{k.profile, k.kind, k.op, k.target, k.verdict, k.rule, k.exe} {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.WriteString(f)
	}
	return h.Sum64()
}

// overKey is an overflow row's primary key.
type overKey struct {
	profile, kind, verdict string
}

type overDelta struct {
	count, first, last int64
}

func addOverflow(m map[overKey]*overDelta, k overKey, count, first, last int64) {
	o := m[k]
	if o == nil {
		m[k] = &overDelta{count: count, first: first, last: last}
		return
	}
	o.count += count
	o.first = min(o.first, first)
	o.last = max(o.last, last)
}

// insert writes p and returns how many events went to the overflow: those counted there by
// Record and those of new groups for which the profile had no room.
func (r *Run) insert(tx *sql.Tx, p *pending) (int64, error) {
	// The raw events, then the aggregates (the profile's count of them kept in step), then
	// the overflow, then the run's counts.
	if len(p.raw) > 0 {
		raw, err := tx.Prepare(`INSERT INTO events (run_id, time, profile, verdict, kind, event) VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return 0, err
		}
		defer raw.Close()
		for _, pe := range p.raw {
			e := pe.e
			if _, err := raw.Exec(r.info.ID, nanos(e.Time), e.Profile, string(e.Verdict), string(e.Kind), pe.js); err != nil {
				return 0, fmt.Errorf("inserting event: %w", err)
			}
		}
	}
	capped := p.capped
	over := map[overKey]*overDelta{} // a copy: the transaction may be tried again
	for k, o := range p.over {
		addOverflow(over, k, o.count, o.first, o.last)
	}
	if len(p.aggs) > 0 {
		up, err := tx.Prepare(`UPDATE aggregates SET
				count = count + ?,
				first = min(first, ?),
				last = max(last, ?),
				example = CASE WHEN ? >= last THEN ? ELSE example END
			WHERE profile = ? AND kind = ? AND op = ? AND target = ? AND verdict = ? AND rule = ? AND exe = ?`)
		if err != nil {
			return 0, err
		}
		defer up.Close()
		ins, err := tx.Prepare(`INSERT INTO aggregates (profile, kind, op, target, verdict, rule, exe, count, first, last, example)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return 0, err
		}
		defer ins.Close()
		rows := map[string]int64{} // profile → its aggregates, as read in this transaction
		added := map[string]int64{}
		for k, a := range p.aggs {
			res, err := up.Exec(a.count, a.first, a.last, a.last, a.example,
				k.profile, k.kind, k.op, k.target, k.verdict, k.rule, k.exe)
			if err != nil {
				return 0, fmt.Errorf("updating aggregate: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return 0, fmt.Errorf("updating aggregate: %w", err)
			} else if n > 0 {
				continue
			}
			n, ok := rows[k.profile]
			if !ok {
				if n, err = aggregateRows(tx, k.profile); err != nil {
					return 0, err
				}
				rows[k.profile] = n
			}
			if n >= int64(r.s.opts.MaxProfileAggregates) {
				capped += a.count
				addOverflow(over, overKey{k.profile, k.kind, k.verdict}, a.count, a.first, a.last)
				continue
			}
			if _, err := ins.Exec(k.profile, k.kind, k.op, k.target, k.verdict, k.rule, k.exe,
				a.count, a.first, a.last, a.example); err != nil {
				return 0, fmt.Errorf("inserting aggregate: %w", err)
			}
			rows[k.profile]++
			added[k.profile]++
		}
		for profile, n := range added {
			if _, err := tx.Exec(`INSERT INTO aggregate_counts (profile, rows) VALUES (?, ?)
				ON CONFLICT (profile) DO UPDATE SET rows = rows + excluded.rows`, profile, n); err != nil {
				return 0, fmt.Errorf("counting aggregates: %w", err)
			}
		}
	}
	for k, o := range over {
		if _, err := tx.Exec(`INSERT INTO overflow (profile, kind, verdict, count, first, last) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (profile, kind, verdict) DO UPDATE SET
				count = count + excluded.count, first = min(first, excluded.first), last = max(last, excluded.last)`,
			k.profile, k.kind, k.verdict, o.count, o.first, o.last); err != nil {
			return 0, fmt.Errorf("counting overflow: %w", err)
		}
	}
	command, err := json.Marshal(r.info.Command)
	if err != nil {
		return 0, err
	}
	// The run is there unless Prune took it (then it comes back).
	_, err = tx.Exec(`INSERT INTO runs (id, profile, mode, command, started, events, dropped, capped)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET events = events + excluded.events, dropped = dropped + excluded.dropped,
			capped = capped + excluded.capped`,
		r.info.ID, r.info.Profile, r.info.Mode, string(command), nanos(r.info.Started),
		len(p.raw), p.notRaw+p.lost, capped)
	if err != nil {
		return 0, fmt.Errorf("updating run: %w", err)
	}
	return capped, nil
}

// aggregateRows is how many aggregates profile has.
func aggregateRows(tx *sql.Tx, profile string) (int64, error) {
	var n int64
	err := tx.QueryRow(`SELECT rows FROM aggregate_counts WHERE profile = ?`, profile).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("counting aggregates: %w", err)
	}
	return n, nil
}
