// Package acl grants an AppContainer SID access to files with explicit ACEs and takes every
// one of them away again: at the run's exit, and after a crash at the next agentrun start.
//
// Every grant is first written to a journal (append-only JSON lines in agentrun's state
// directory, fsync'd), then applied. A run is alive while it holds the exclusive lock on its
// own lock file (flock on Unix, LockFileEx on Windows); a run whose lock can be taken is dead,
// and Recover revokes what the journal says it was granted. Journal edits happen under a
// short global lock, so two agentrun processes never interleave a rewrite.
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
