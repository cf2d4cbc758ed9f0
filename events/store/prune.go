package store

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// pruneChunk is how many raw events one prune transaction deletes at most, so that runs
// writing meanwhile wait for one chunk, not for the whole prune. A variable so that a test
// can make Prune take several chunks.
var pruneChunk int64 = 10_000

// Prune applies the retention options as of now: it deletes raw events older than RawAge,
// then the oldest raw events beyond MaxRawEvents, runs that ended (or, never ended, started)
// before RawAge and have no raw events left, and aggregates and overflow last seen before
// AggregateAge.
// A run's Events count goes down by the raw events deleted.
func (s *Store) Prune(now time.Time) error {
	if err := s.prune(now); err != nil {
		return fmt.Errorf("pruning event store %s: %w", s.path, err)
	}
	return nil
}

func (s *Store) prune(now time.Time) error {
	rawCutoff := nanos(now.Add(-s.opts.RawAge))
	if err := s.deleteOldest("time < ?", []any{rawCutoff}, -1); err != nil {
		return err
	}
	var n int64
	if err := s.db.QueryRow(`SELECT count(*) FROM events`).Scan(&n); err != nil {
		return fmt.Errorf("counting events: %w", err)
	}
	if excess := n - int64(s.opts.MaxRawEvents); excess > 0 {
		if err := s.deleteOldest("1", nil, excess); err != nil {
			return err
		}
	}
	return s.withTx(func(tx *sql.Tx) error {
		// A run without an end and without events since the cutoff crashed, or is very
		// quiet; should it go on, its writer puts it back.
		if _, err := tx.Exec(`DELETE FROM runs WHERE coalesce(ended, started) < ?
			AND NOT EXISTS (SELECT 1 FROM events WHERE events.run_id = runs.id)`, rawCutoff); err != nil {
			return fmt.Errorf("deleting runs: %w", err)
		}
		aggCutoff := nanos(now.Add(-s.opts.AggregateAge))
		if _, err := tx.Exec(`DELETE FROM aggregates WHERE last < ?`, aggCutoff); err != nil {
			return fmt.Errorf("deleting aggregates: %w", err)
		}
		if _, err := tx.Exec(`DELETE FROM overflow WHERE last < ?`, aggCutoff); err != nil {
			return fmt.Errorf("deleting overflow: %w", err)
		}
		// The profiles' counts of aggregates, counted afresh.
		if _, err := tx.Exec(`DELETE FROM aggregate_counts`); err != nil {
			return fmt.Errorf("counting aggregates: %w", err)
		}
		if _, err := tx.Exec(`INSERT INTO aggregate_counts (profile, rows)
			SELECT profile, count(*) FROM aggregates GROUP BY profile`); err != nil {
			return fmt.Errorf("counting aggregates: %w", err)
		}
		if _, err := tx.Exec(`INSERT INTO meta (key, value) VALUES ('last_prune', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, strconv.FormatInt(nanos(now), 10)); err != nil {
			return fmt.Errorf("recording prune time: %w", err)
		}
		return nil
	})
}

// deleteOldest deletes raw events matching cond, oldest first, at most limit of them (all
// when limit is negative), a chunk per transaction, and takes them off their runs' counts.
func (s *Store) deleteOldest(cond string, args []any, limit int64) error {
	for limit != 0 {
		n := pruneChunk
		if limit > 0 && limit < n {
			n = limit
		}
		var deleted int64
		var last bool // the chunk takes every event left that matches
		err := s.withTx(func(tx *sql.Tx) error {
			where, wargs := cond, args
			var t, id int64
			err := tx.QueryRow(`SELECT time, id FROM events WHERE `+cond+` ORDER BY time, id LIMIT 1 OFFSET ?`,
				slices.Concat(args, []any{n - 1})...).Scan(&t, &id)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				last = true
				if limit > 0 { // fewer events than counted: another process pruned
					return nil
				}
			case err != nil:
				return fmt.Errorf("finding old events: %w", err)
			default:
				where = "(" + cond + ") AND (time, id) <= (?, ?)"
				wargs = slices.Concat(args, []any{t, id})
			}
			if _, err := tx.Exec(`UPDATE runs SET events = max(0, runs.events - d.n)
				FROM (SELECT run_id, count(*) AS n FROM events WHERE `+where+` GROUP BY run_id) AS d
				WHERE runs.id = d.run_id`, wargs...); err != nil {
				return fmt.Errorf("counting old events: %w", err)
			}
			res, err := tx.Exec(`DELETE FROM events WHERE `+where, wargs...)
			if err != nil {
				return fmt.Errorf("deleting old events: %w", err)
			}
			deleted, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return err
		}
		if last || deleted == 0 {
			return nil
		}
		if limit > 0 {
			limit -= deleted
		}
	}
	return nil
}

// lastPrune is when the store was last pruned; zero if never.
func (s *Store) lastPrune() (time.Time, error) {
	var v string
	err := s.db.QueryRow(`SELECT value FROM meta WHERE key = 'last_prune'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("reading last prune time: %w", err)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, nil // unreadable: prune again
	}
	return fromNanos(n), nil
}
