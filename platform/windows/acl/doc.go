// Package acl grants an AppContainer SID access to files with explicit ACEs and takes every
// one of them away again: at the run's exit, and after a crash at the next agentrun start.
//
// Every grant is first written to a journal (append-only JSON lines in agentrun's state
// directory, fsync'd), then applied. A run is alive while it holds the exclusive lock on its
// own lock file (flock on Unix, LockFileEx on Windows); a run whose lock can be taken is dead,
// and Recover revokes what the journal says it was granted. Journal edits happen under a
// short global lock, so two agentrun processes never interleave a rewrite.
//
// Files in the state directory: acl-journal.jsonl (records: begin, grant, end), acl-journal.lock
// (the global lock), acl-runs/<run>.lock (each run's liveness) and, only after damage,
// acl-journal.corrupt (lines that were not records, moved aside by Recover and reported by
// line number). Grant holds the global lock across its record and its Apply, and End and
// Recover across their Removes and re-Applies, so that a revocation never races a grant of
// another run of the same SID; the cost is that one slow propagation (an inheritable ACE on a
// big tree) makes other agentrun starts wait.
//
// Crash windows: a crash after a grant's record and before its Apply leaves a record whose
// Remove finds nothing (not an error); a crash mid-write leaves a torn last line, ignored and
// cut off by the next append (its Apply never ran: Apply follows the record's fsync); a
// crash in End leaves the run without its end record, so Recover revokes it again (Remove is
// idempotent).
//
// One SID serves every run of a profile, so two live runs can hold ACEs of the same SID on
// the same path. Revoking a path removes every explicit ACE of the SID there (allow and
// deny), then applies again the grants that other live runs of that SID hold on it.
//
// Accesses never include FILE_DELETE_CHILD: on a directory it lets its children be deleted
// or renamed whatever their own DACL says (Microsoft KB 238018), which would defeat the
// DenyDelete and DenyWrite ACEs that keep protected paths in place.
//
// The journal and the DACL editing (ACE bytes, canonical order) are pure and tested on every
// OS; only the Editor that reads and writes a file's DACL is Windows code.
package acl
