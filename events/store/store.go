// Package store keeps agentrun's events in an embedded SQLite database, one per user, so that
// what agents did can be looked at after their runs: every run, its raw events, and
// aggregates per profile that outlive the raw events.
//
// The database is events.db in the directory [OpenUser] opens: the invoking user's
// $XDG_STATE_HOME/agentrun (else ~/.local/state/agentrun), as package userdirs finds it.
// It runs in WAL mode with synchronous=NORMAL and a busy timeout, so several agentrun
// processes can write it at once and a killed process loses at most the last batch it had
// not committed (a run's writer commits at least every 50 ms). The driver is
// modernc.org/sqlite, which is pure Go: no cgo, so the binary still cross-compiles.
//
// Retention: each run keeps at most [Options.MaxRunEvents] raw events (and
// [Options.MaxRunEventBytes] of them; past that only the aggregates count), and [Store.Prune],
// run by [Open] at most once a day, deletes raw events and runs older than [Options.RawAge],
// the oldest raw events beyond [Options.MaxRawEvents], and aggregates not seen for
// [Options.AggregateAge].
//
// Caps: an agent can make every event unique (a new path, a new DNS name each time), so one
// run counts at most [Options.MaxRunAggregates] groups one by one, and a profile has at most
// [Options.MaxProfileAggregates] aggregates; events past either cap are counted per profile,
// kind and verdict in the overflow ([Store.Overflow]) and in the run's Capped. A cap never
// evicts what is stored: a flood in one run leaves other runs' and profiles' aggregates as
// they are.
package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/platform/safefs"
)

// The defaults of Options.
const (
	DefaultMaxRunEvents         = 10_000
	DefaultMaxRunEventBytes     = 8 << 20
	DefaultMaxRunAggregates     = 10_000
	DefaultMaxRunAggregateBytes = 16 << 20
	DefaultMaxProfileAggregates = 100_000
	DefaultMaxRawEvents         = 1_000_000
	DefaultRawAge               = 30 * 24 * time.Hour
	DefaultAggregateAge         = 180 * 24 * time.Hour
)

const (
	fileName      = "events.db"
	schemaVersion = 2
	pruneEvery    = 24 * time.Hour
	busyTimeout   = 5000    // milliseconds SQLite waits for another writer
	busyRetries   = 5       // further attempts at a transaction that still found the database busy
	walLimit      = 4 << 20 // bytes the WAL file is cut back to after a checkpoint
	// walPages is how many pages the WAL holds before a commit moves them into the database
	// (SQLite's default is 1000). Leave leaves that move to later commits, and the first Open
	// after a process left the store reads the whole WAL to index it: a quarter of the
	// default keeps that read under ≈ 1 MiB, a checkpoint every few dozen runs.
	walPages = 256
)

// Options are a store's ownership and retention. Zero values mean the defaults.
type Options struct {
	// Owner, when non-nil, gets the directory and the database files: agentrun run under
	// sudo writes into the invoking user's store.
	Owner *Owner
	// as, where agentrun runs as root for the owner, is the owner's file-system identity
	// (UserDir): the directory is a /proc/self/fd path of one the owner made and owns, so it
	// is neither made nor given to them again, and the database's connections are opened
	// with it.
	as *safefs.Identity
	// MaxRunEvents is how many raw events one run keeps; past it only the aggregates are
	// updated and the run's Dropped count grows.
	MaxRunEvents int
	// MaxRunEventBytes is how many bytes of JSON one run's raw events take at most.
	MaxRunEventBytes int64
	// MaxRunAggregates is how many groups (aggregates) one run counts one by one; events in
	// further groups are counted in the overflow and the run's Capped.
	MaxRunAggregates int
	// MaxRunAggregateBytes is how many bytes the groups one run counts one by one take at
	// most: their keys and first examples. It binds only when the strings are very long.
	MaxRunAggregateBytes int64
	// MaxProfileAggregates is how many aggregates a profile has at most; events in further
	// groups are counted in the overflow and the run's Capped.
	MaxProfileAggregates int
	// MaxRawEvents is how many raw events the store keeps in all; Prune deletes the oldest.
	MaxRawEvents int
	// RawAge is how long raw events and runs are kept.
	RawAge time.Duration
	// AggregateAge is how long an aggregate is kept after it was last seen.
	AggregateAge time.Duration
}

// Owner is a user and group to own the store's files.
type Owner struct{ UID, GID int }

func (o Options) withDefaults() Options {
	if o.MaxRunEvents <= 0 {
		o.MaxRunEvents = DefaultMaxRunEvents
	}
	if o.MaxRunEventBytes <= 0 {
		o.MaxRunEventBytes = DefaultMaxRunEventBytes
	}
	if o.MaxRunAggregates <= 0 {
		o.MaxRunAggregates = DefaultMaxRunAggregates
	}
	if o.MaxRunAggregateBytes <= 0 {
		o.MaxRunAggregateBytes = DefaultMaxRunAggregateBytes
	}
	if o.MaxProfileAggregates <= 0 {
		o.MaxProfileAggregates = DefaultMaxProfileAggregates
	}
	if o.MaxRawEvents <= 0 {
		o.MaxRawEvents = DefaultMaxRawEvents
	}
	if o.RawAge <= 0 {
		o.RawAge = DefaultRawAge
	}
	if o.AggregateAge <= 0 {
		o.AggregateAge = DefaultAggregateAge
	}
	return o
}

// Store is an open event store. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
	opts Options

	mu   sync.Mutex
	runs map[*Run]struct{} // runs whose writer is running
}

// Open opens the store in dir, creating dir (0700) and dir/events.db (0600) when missing,
// and prunes it when it was last pruned more than a day ago.
func Open(dir string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("opening event store: %w", err)
	}
	path := filepath.Join(dir, fileName)
	var db *sql.DB
	if opts.as != nil {
		// Root for another user: SQLite opens the database, its -wal and its -shm by name,
		// following links; it does so with the user's rights (asUser), and the database is
		// made (0600, which SQLite gives the -wal and -shm too) with them as well.
		if err := safefs.AsUser(opts.as, func() error { return prepareFiles(dir, path, opts) }); err != nil {
			return nil, fmt.Errorf("opening event store %s: %w", path, err)
		}
		db = sql.OpenDB(asUser{dsn: dsn(path), id: opts.as})
	} else {
		if err := prepareFiles(dir, path, opts); err != nil {
			return nil, fmt.Errorf("opening event store %s: %w", path, err)
		}
		if db, err = sql.Open("sqlite", dsn(path)); err != nil {
			return nil, fmt.Errorf("opening event store %s: %w", path, err)
		}
	}
	s := &Store{db: db, path: path, opts: opts, runs: map[*Run]struct{}{}}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening event store %s: %w", path, err)
	}
	return s, nil
}

// dsn is the modernc.org/sqlite data source name for the database file at path: a file:
// URI (so that '?', '#' and '%' in the path are escaped) with the PRAGMAs every connection
// needs, and BEGIN IMMEDIATE for transactions, so a writer takes the write lock up front
// and waits for it under busy_timeout instead of failing on upgrade.
func dsn(path string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	if !strings.HasPrefix(u.Path, "/") { // a Windows path: file:///C:/...
		u.Path = "/" + u.Path
	}
	return u.String() + "?" + strings.Join([]string{
		"_pragma=busy_timeout(" + strconv.Itoa(busyTimeout) + ")",
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(NORMAL)",
		"_pragma=journal_size_limit(" + strconv.Itoa(walLimit) + ")",
		"_pragma=wal_autocheckpoint(" + strconv.Itoa(walPages) + ")",
		"_pragma=foreign_keys(1)",
		"_txlock=immediate",
	}, "&")
}

// init creates or checks the schema, hands the files to the owner and prunes when due.
func (s *Store) init() error {
	if err := s.migrate(); err != nil {
		return err
	}
	if err := s.importJournal(); err != nil {
		return err
	}
	if o := s.opts.Owner; o != nil {
		// The -wal and -shm files exist now, as the pool keeps a connection open; SQLite
		// creates them afresh after the last connection closes.
		for _, suffix := range []string{"-wal", "-shm"} {
			if err := os.Lchown(s.path+suffix, o.UID, o.GID); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("changing owner: %w", err)
			}
		}
	}
	last, err := s.lastPrune()
	if err != nil {
		return err
	}
	if now := time.Now(); now.Sub(last) >= pruneEvery || last.After(now) {
		return s.Prune(now)
	}
	return nil
}

// schema is the database as version 1 made it; migrations take it on from there. Times are
// Unix nanoseconds; events and examples are events.Event as JSON.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS meta (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS runs (
		id        TEXT PRIMARY KEY,
		profile   TEXT NOT NULL,
		mode      TEXT NOT NULL,
		command   TEXT NOT NULL,
		started   INTEGER NOT NULL,
		ended     INTEGER,
		exit_code INTEGER,
		events    INTEGER NOT NULL DEFAULT 0,
		dropped   INTEGER NOT NULL DEFAULT 0
	)`,
	`CREATE INDEX IF NOT EXISTS runs_profile ON runs (profile, started)`,
	`CREATE INDEX IF NOT EXISTS runs_started ON runs (started)`,
	`CREATE TABLE IF NOT EXISTS events (
		id      INTEGER PRIMARY KEY,
		run_id  TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
		time    INTEGER NOT NULL,
		profile TEXT NOT NULL,
		verdict TEXT NOT NULL,
		kind    TEXT NOT NULL,
		event   TEXT NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS events_run ON events (run_id, time)`,
	`CREATE INDEX IF NOT EXISTS events_time ON events (time)`,
	`CREATE INDEX IF NOT EXISTS events_profile ON events (profile, time)`,
	`CREATE INDEX IF NOT EXISTS events_verdict ON events (verdict, time)`,
	`CREATE INDEX IF NOT EXISTS events_kind ON events (kind, time)`,
	`CREATE TABLE IF NOT EXISTS aggregates (
		profile TEXT NOT NULL,
		kind    TEXT NOT NULL,
		op      TEXT NOT NULL,
		target  TEXT NOT NULL,
		verdict TEXT NOT NULL,
		rule    TEXT NOT NULL,
		exe     TEXT NOT NULL,
		count   INTEGER NOT NULL,
		first   INTEGER NOT NULL,
		last    INTEGER NOT NULL,
		example TEXT NOT NULL,
		PRIMARY KEY (profile, kind, op, target, verdict, rule, exe)
	) WITHOUT ROWID`,
	`CREATE INDEX IF NOT EXISTS aggregates_last ON aggregates (last)`,
}

// migrations[v-2] takes the schema from version v-1 to v.
var migrations = [][]string{
	{ // 2: caps. The runs' capped events, each profile's count of aggregates (kept in step
		// by the writers, so a cap costs no count(*)), the overflow past the caps; and no
		// index on aggregates' last, which copied each whole key (Prune scans once a day).
		`ALTER TABLE runs ADD COLUMN capped INTEGER NOT NULL DEFAULT 0`,
		`CREATE TABLE aggregate_counts (
			profile TEXT PRIMARY KEY,
			rows    INTEGER NOT NULL
		)`,
		`INSERT INTO aggregate_counts (profile, rows) SELECT profile, count(*) FROM aggregates GROUP BY profile`,
		`CREATE TABLE overflow (
			profile TEXT NOT NULL,
			kind    TEXT NOT NULL,
			verdict TEXT NOT NULL,
			count   INTEGER NOT NULL,
			first   INTEGER NOT NULL,
			last    INTEGER NOT NULL,
			PRIMARY KEY (profile, kind, verdict)
		)`,
		`DROP INDEX IF EXISTS aggregates_last`,
	},
}

// migrate brings the schema to schemaVersion inside one write transaction, so two
// processes opening a new store at once do not both create it.
func (s *Store) migrate() error {
	return s.withTx(func(tx *sql.Tx) error {
		var v int
		if err := tx.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
			return fmt.Errorf("reading schema version: %w", err)
		}
		switch {
		case v == schemaVersion:
			return nil
		case v > schemaVersion:
			return fmt.Errorf("schema version %d is newer than this agentrun's (%d)", v, schemaVersion)
		}
		if v == 0 {
			for _, q := range schema {
				if _, err := tx.Exec(q); err != nil {
					return fmt.Errorf("creating schema: %w", err)
				}
			}
			v = 1
		}
		for ; v < schemaVersion; v++ {
			for _, q := range migrations[v-1] {
				if _, err := tx.Exec(q); err != nil {
					return fmt.Errorf("migrating schema to version %d: %w", v+1, err)
				}
			}
		}
		if _, err := tx.Exec(`PRAGMA user_version = ` + strconv.Itoa(schemaVersion)); err != nil {
			return fmt.Errorf("setting schema version: %w", err)
		}
		return nil
	})
}

// Close stops the writers of runs not yet ended, after committing what they queued (the
// runs stay without an end, as after a crash), and closes the database.
func (s *Store) Close() error {
	err := s.stopRuns()
	if cerr := s.db.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("closing event store %s: %w", s.path, cerr))
	}
	return err
}

// Leave is Close for a process about to exit: it stops the runs' writers as Close does, but
// leaves the database's connection to the exit. Closing the last connection checkpoints
// the WAL into the database, with a sync of each file (1.5–3 ms at the end of every run on
// a VM's disk, most of what recording a run costs); left open, what the runs committed
// stays in the WAL, which SQLite reads back on the next Open and checkpoints on a later
// commit (see walPages) or Close. The Store must not be used afterwards.
func (s *Store) Leave() error { return s.stopRuns() }

// stopRuns stops the writers of runs not yet ended, after committing what they queued.
func (s *Store) stopRuns() error {
	s.mu.Lock()
	runs := make([]*Run, 0, len(s.runs))
	for r := range s.runs {
		runs = append(runs, r)
	}
	s.mu.Unlock()
	var errs []error
	for _, r := range runs {
		errs = append(errs, r.shutdown())
	}
	return errors.Join(errs...)
}

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// withTx runs fn in a write transaction (BEGIN IMMEDIATE, from the DSN) and commits it.
// When the database stays busy past busy_timeout (another process holds the write lock
// for long, or is recovering the WAL), it tries again a few times.
func (s *Store) withTx(fn func(*sql.Tx) error) error {
	var err error
	for i := 0; ; i++ {
		if err = s.tryTx(fn); err == nil || !isBusy(err) || i == busyRetries {
			return err
		}
		time.Sleep(time.Duration(i+1) * 20 * time.Millisecond)
	}
}

func (s *Store) tryTx(fn func(*sql.Tx) error) error {
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// isBusy reports whether err is SQLite's SQLITE_BUSY, in any of its extended forms.
func isBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// nanos is t as stored: Unix nanoseconds.
func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n) }

// RunInfo describes one run of an agent.
type RunInfo struct {
	ID, Profile, Mode string // Mode is "enforce" or "audit", perhaps with "+trace"
	Command           []string
	Started, Ended    time.Time // Ended is zero while the run goes on, or after a crash
	ExitCode          int
	Events, Dropped   int // raw events kept; raw events not kept (MaxRunEvents, a failed commit)
	// Capped is how many events were only counted in the overflow: their groups were past
	// MaxRunAggregates or MaxProfileAggregates.
	Capped int
}

// Filter selects events, runs and aggregates. Zero fields select everything.
type Filter struct {
	Profile, RunID string
	Verdicts       []events.Verdict
	Kinds          []events.Kind
	Since          time.Time
	Limit          int
}

// where is the filter as a WHERE clause on a table whose time column is timeCol; only the
// fields in use apply.
func (f Filter) where(timeCol string, useRun, useKinds bool) (string, []any) {
	var conds []string
	var args []any
	if f.Profile != "" {
		conds = append(conds, "profile = ?")
		args = append(args, f.Profile)
	}
	if useRun && f.RunID != "" {
		conds = append(conds, "run_id = ?")
		args = append(args, f.RunID)
	}
	if useKinds && len(f.Verdicts) > 0 {
		conds = append(conds, "verdict IN ("+placeholders(len(f.Verdicts))+")")
		for _, v := range f.Verdicts {
			args = append(args, string(v))
		}
	}
	if useKinds && len(f.Kinds) > 0 {
		conds = append(conds, "kind IN ("+placeholders(len(f.Kinds))+")")
		for _, k := range f.Kinds {
			args = append(args, string(k))
		}
	}
	if !f.Since.IsZero() {
		conds = append(conds, timeCol+" >= ?")
		args = append(args, nanos(f.Since))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func (f Filter) limit() string {
	if f.Limit <= 0 {
		return ""
	}
	return " LIMIT " + strconv.Itoa(f.Limit)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// Events returns the raw events that f selects, oldest first. With a Limit they are the
// newest Limit such events, still oldest first. RunID selects by the run that recorded them.
func (s *Store) Events(f Filter) ([]events.Event, error) {
	where, args := f.where("time", true, true)
	q := `SELECT event FROM events` + where + ` ORDER BY time, id`
	if f.Limit > 0 {
		q = `SELECT event FROM (SELECT id, time, event FROM events` + where +
			` ORDER BY time DESC, id DESC` + f.limit() + `) ORDER BY time, id`
	}
	rows, err := s.db.Query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("querying events: %w", err)
	}
	defer rows.Close()
	var evs []events.Event
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("querying events: %w", err)
		}
		var e events.Event
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("decoding event: %w", err)
		}
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("querying events: %w", err)
	}
	return evs, nil
}

// Runs returns the runs that f's Profile, RunID and Since (on Started) select, newest first.
func (s *Store) Runs(f Filter) ([]RunInfo, error) {
	where, args := f.where("started", false, false)
	if f.RunID != "" {
		if where == "" {
			where = " WHERE id = ?"
		} else {
			where += " AND id = ?"
		}
		args = append(args, f.RunID)
	}
	rows, err := s.db.Query(`SELECT id, profile, mode, command, started, ended, exit_code, events, dropped, capped
		FROM runs`+where+` ORDER BY started DESC, id DESC`+f.limit(), args...)
	if err != nil {
		return nil, fmt.Errorf("querying runs: %w", err)
	}
	defer rows.Close()
	var runs []RunInfo
	for rows.Next() {
		var (
			r        RunInfo
			command  []byte
			started  int64
			ended    sql.NullInt64
			exitCode sql.NullInt64
		)
		if err := rows.Scan(&r.ID, &r.Profile, &r.Mode, &command, &started, &ended, &exitCode, &r.Events, &r.Dropped, &r.Capped); err != nil {
			return nil, fmt.Errorf("querying runs: %w", err)
		}
		if err := json.Unmarshal(command, &r.Command); err != nil {
			return nil, fmt.Errorf("decoding command of run %s: %w", r.ID, err)
		}
		r.Started = fromNanos(started)
		if ended.Valid {
			r.Ended = fromNanos(ended.Int64)
		}
		r.ExitCode = int(exitCode.Int64)
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("querying runs: %w", err)
	}
	return runs, nil
}

// Aggregate is every event of one profile with the same kind, operation, target, verdict,
// rule and executable, counted.
type Aggregate struct {
	Profile     string
	Kind        events.Kind
	Op          string // Event.Op; for flows the protocol; for DNS the query type
	Target      string // the path; for DNS the name; for flows name:port, else address:port
	Verdict     events.Verdict
	Rule        string
	Exe         string
	Count       int64
	First, Last time.Time
	Example     events.Event // the most recent event of the group
}

// aggregateKey is the group an event is counted in (see events.GroupKey).
func aggregateKey(e events.Event) (op, target string) { return events.GroupKey(e) }

// Aggregates returns the aggregates that f's Profile, Verdicts, Kinds and Since (on Last)
// select, ordered by kind, target and operation. RunID does not apply: aggregates span runs.
func (s *Store) Aggregates(f Filter) ([]Aggregate, error) {
	where, args := f.where("last", false, true)
	rows, err := s.db.Query(`SELECT profile, kind, op, target, verdict, rule, exe, count, first, last, example
		FROM aggregates`+where+` ORDER BY kind, target, op, verdict, rule, exe, profile`+f.limit(), args...)
	if err != nil {
		return nil, fmt.Errorf("querying aggregates: %w", err)
	}
	defer rows.Close()
	var aggs []Aggregate
	for rows.Next() {
		var (
			a           Aggregate
			first, last int64
			example     []byte
		)
		if err := rows.Scan(&a.Profile, &a.Kind, &a.Op, &a.Target, &a.Verdict, &a.Rule, &a.Exe,
			&a.Count, &first, &last, &example); err != nil {
			return nil, fmt.Errorf("querying aggregates: %w", err)
		}
		if err := json.Unmarshal(example, &a.Example); err != nil {
			return nil, fmt.Errorf("decoding example event: %w", err)
		}
		a.First, a.Last = fromNanos(first), fromNanos(last)
		aggs = append(aggs, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("querying aggregates: %w", err)
	}
	return aggs, nil
}

// Overflow is the events of one profile, kind and verdict that were counted without their
// own aggregate, past MaxRunAggregates or MaxProfileAggregates.
type Overflow struct {
	Profile     string
	Kind        events.Kind
	Verdict     events.Verdict
	Count       int64
	First, Last time.Time
}

// Overflow returns the overflow that f's Profile, Verdicts, Kinds and Since (on Last) select,
// ordered by profile, kind and verdict.
func (s *Store) Overflow(f Filter) ([]Overflow, error) {
	where, args := f.where("last", false, true)
	rows, err := s.db.Query(`SELECT profile, kind, verdict, count, first, last FROM overflow`+where+
		` ORDER BY profile, kind, verdict`+f.limit(), args...)
	if err != nil {
		return nil, fmt.Errorf("querying overflow: %w", err)
	}
	defer rows.Close()
	var out []Overflow
	for rows.Next() {
		var (
			o           Overflow
			first, last int64
		)
		if err := rows.Scan(&o.Profile, &o.Kind, &o.Verdict, &o.Count, &first, &last); err != nil {
			return nil, fmt.Errorf("querying overflow: %w", err)
		}
		o.First, o.Last = fromNanos(first), fromNanos(last)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("querying overflow: %w", err)
	}
	return out, nil
}

// Checkpoint copies the write-ahead log into the database file and cuts the log back to
// nothing, so the files' sizes are the store's.
func (s *Store) Checkpoint() error {
	if _, err := s.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("checkpointing event store %s: %w", s.path, err)
	}
	return nil
}
