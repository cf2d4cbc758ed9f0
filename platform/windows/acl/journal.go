package acl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// Files in the state directory.
const (
	journalName = "acl-journal.jsonl"
	lockName    = "acl-journal.lock"    // the short global lock around every journal edit
	corruptName = "acl-journal.corrupt" // lines that were not records, moved aside by Recover
	runsDirName = "acl-runs"            // one <run>.lock per run, locked for the run's life
	tempSuffix  = ".tmp"
)

// ErrEnded is what a Run answers once End was called.
var ErrEnded = errors.New("the run has ended")

// Journal records every ACE granted to an AppContainer SID so that it can be revoked.
type Journal struct {
	dir     string
	ed      Editor
	path    string
	lock    string
	runsDir string
}

// Open opens the journal in dir, agentrun's state directory, creating it (0700) if needed.
func Open(dir string, ed Editor) (*Journal, error) {
	if ed == nil {
		return nil, errors.New("opening the ACL journal: no Editor")
	}
	j := &Journal{
		dir:     dir,
		ed:      ed,
		path:    filepath.Join(dir, journalName),
		lock:    filepath.Join(dir, lockName),
		runsDir: filepath.Join(dir, runsDirName),
	}
	if err := os.MkdirAll(j.runsDir, 0o700); err != nil {
		return nil, fmt.Errorf("opening the ACL journal: %w", err)
	}
	return j, nil
}

// Path is the journal file, for messages.
func (j *Journal) Path() string { return j.path }

// Run is one live run's grants.
type Run struct {
	j     *Journal
	id    string
	sid   string
	mu    sync.Mutex
	lock  *os.File // held for the run's life: its liveness
	ended bool
}

// ID is the run's id.
func (r *Run) ID() string { return r.id }

// Begin registers a live run of the AppContainer sid: it takes the run's lock (held until End
// or the process's death) and journals the run's start. Run ids must be unique in the journal.
func (j *Journal) Begin(runID, sid string) (*Run, error) {
	if err := checkRunID(runID); err != nil {
		return nil, err
	}
	if _, err := sidBytes(sid); err != nil {
		return nil, fmt.Errorf("beginning run %s: %w", runID, err)
	}
	lp := j.runLock(runID)
	f, err := lockFile(lp, false)
	if errors.Is(err, errLocked) {
		return nil, fmt.Errorf("beginning run %s: another live run has this id (%s is locked)", runID, lp)
	}
	if err != nil {
		return nil, fmt.Errorf("beginning run %s: %w", runID, err)
	}
	err = j.locked(func() error {
		// Recover removes a dead run's lock file; make sure ours is still the one on disk.
		fi, err1 := f.Stat()
		di, err2 := os.Stat(lp)
		if err1 != nil || err2 != nil || !os.SameFile(fi, di) {
			return fmt.Errorf("the lock file %s was replaced while it was being taken; try again", lp)
		}
		c, err := readJournal(j.path)
		if err != nil {
			return err
		}
		for _, r := range c.recs {
			if r.Run == runID {
				return fmt.Errorf("the ACL journal %s already has a run %s; run ids must be unique", j.path, runID)
			}
		}
		return j.append(record{Op: opBegin, Run: runID, SID: sid, PID: os.Getpid()})
	})
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("beginning run %s: %w", runID, err)
	}
	return &Run{j: j, id: runID, sid: sid, lock: f}, nil
}

// Grant journals g (written and fsync'd first), then applies its ACE. When Apply fails the
// record stays: End, or Recover after a crash, removes whatever part of it took effect.
func (r *Run) Grant(g Grant) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return fmt.Errorf("granting %s on %s to run %s: %w", g.Access, g.Path, r.id, ErrEnded)
	}
	if err := g.check(); err != nil {
		return fmt.Errorf("run %s: %w", r.id, err)
	}
	g.Path = filepath.Clean(g.Path)
	return r.j.locked(func() error {
		rec := record{Op: opGrant, Run: r.id, SID: r.sid, Path: g.Path, Access: g.Access, Inherit: g.Inherit}
		if err := r.j.append(rec); err != nil {
			return fmt.Errorf("granting %s on %s: %w", g.Access, g.Path, err)
		}
		if err := r.j.ed.Apply(r.sid, g); err != nil {
			return fmt.Errorf("granting %s on %s to %s: %w", g.Access, g.Path, r.sid, err)
		}
		return nil
	})
}

// End revokes the run's grants (keeping the ACEs that other live runs of the same SID hold
// on the same paths), marks the run ended and releases its lock. A second End does nothing.
// When a revocation fails the run is not marked ended, and the next Recover retries it.
func (r *Run) End() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return nil
	}
	r.ended = true
	err := r.j.locked(func() error {
		c, err := readJournal(r.j.path)
		if err != nil {
			return err
		}
		var self *runState
		for _, s := range c.runs() {
			if s.id == r.id {
				self = s
			}
		}
		if self != nil {
			lv := r.j.liveness(r.id)
			defer lv.close()
			if _, err := r.j.revoke(c, self, lv); err != nil {
				return fmt.Errorf("%w; the next agentrun start retries", err)
			}
		}
		return r.j.append(record{Op: opEnd, Run: r.id})
	})
	r.release()
	if err != nil {
		return fmt.Errorf("ending run %s: %w", r.id, err)
	}
	return nil
}

// release closes the run's lock, which ends its liveness, and removes the lock file.
func (r *Run) release() {
	r.lock.Close()
	os.Remove(r.lock.Name())
}

// Recover revokes the grants of every run in the journal that is no longer alive and
// compacts the journal to the runs still alive (or whose revocation failed, to be retried).
// revoked counts the grant records revoked. Lines that are not records are moved to
// acl-journal.corrupt next to the journal and reported in err, each by its line number.
func (j *Journal) Recover() (revoked int, err error) {
	err = j.locked(func() error {
		c, err := readJournal(j.path)
		if err != nil {
			return err
		}
		lv := j.liveness("")
		defer lv.close()
		var errs []error
		var keep []record
		var dead []string
		for _, s := range c.runs() {
			if s.ended {
				continue
			}
			alive, err := lv.alive(s.id)
			if err != nil {
				errs = append(errs, fmt.Errorf("run %s: %w; its grants are kept", s.id, err))
				keep = append(keep, s.recs...)
				continue
			}
			if alive {
				keep = append(keep, s.recs...)
				continue
			}
			n, err := j.revoke(c, s, lv)
			if err != nil {
				errs = append(errs, err)
				keep = append(keep, s.recs...)
				continue
			}
			revoked += n
			dead = append(dead, s.id)
		}
		if len(c.bad) > 0 {
			if err := j.setAside(c.bad); err != nil {
				return errors.Join(append(errs, err)...)
			}
			errs = append(errs, j.badError(c.bad))
		}
		if err := j.rewrite(keep); err != nil {
			errs = append(errs, err)
			return errors.Join(errs...)
		}
		for _, id := range dead {
			lv.forget(id)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		return revoked, fmt.Errorf("recovering ACL grants (%s): %w", j.path, err)
	}
	return revoked, nil
}

// revoke removes the ACEs of run s from each path it was granted, keeping there the grants
// that other live runs of the same SID hold on that path: one write of the path's DACL (Set),
// so that a live run never finds its ACE missing while another run ends.
func (j *Journal) revoke(c contents, s *runState, lv *liveness) (int, error) {
	var errs []error
	done := map[string]bool{}
	for _, g := range s.grants {
		key := pathKey(g.Path)
		if done[key] {
			continue
		}
		done[key] = true
		var keep []Grant
		for _, o := range c.runs() {
			if o.id == s.id || o.ended || o.sid != s.sid {
				continue
			}
			if alive, err := lv.alive(o.id); err != nil || !alive {
				continue
			}
			for _, og := range o.grants {
				if pathKey(og.Path) == key {
					keep = append(keep, og)
				}
			}
		}
		if err := j.ed.Set(s.sid, g.Path, keep); err != nil {
			errs = append(errs, fmt.Errorf("revoking %s's ACEs on %s (run %s; %d of live runs kept): %w", s.sid, g.Path, s.id, len(keep), err))
		}
	}
	return len(s.grants), errors.Join(errs...)
}

// locked runs fn under the journal's global lock.
func (j *Journal) locked(fn func() error) error {
	f, err := lockFile(j.lock, true)
	if err != nil {
		return fmt.Errorf("locking the ACL journal: %w", err)
	}
	defer f.Close()
	return fn()
}

// append adds records to the journal and syncs them. A torn last line (a crash mid-write)
// is cut off first, so that it never becomes a corrupt line in the middle.
func (j *Journal) append(recs ...record) error {
	b, err := marshalRecords(recs...)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(j.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("writing the ACL journal: %w", err)
	}
	defer f.Close()
	old, err := os.ReadFile(j.path)
	if err != nil {
		return fmt.Errorf("writing the ACL journal: %w", err)
	}
	c := parseJournal(old)
	if c.torn {
		if err := f.Truncate(int64(c.size)); err != nil {
			return fmt.Errorf("cutting the torn last line of the ACL journal: %w", err)
		}
	}
	if _, err := f.WriteAt(b, int64(c.size)); err != nil {
		return fmt.Errorf("writing the ACL journal: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing the ACL journal: %w", err)
	}
	return nil
}

// rewrite replaces the journal with recs: a temporary file, synced, renamed over it.
func (j *Journal) rewrite(recs []record) error {
	b, err := marshalRecords(recs...)
	if err != nil {
		return err
	}
	tmp := j.path + tempSuffix
	if err := writeSynced(tmp, b, os.O_TRUNC); err != nil {
		return fmt.Errorf("compacting the ACL journal: %w", err)
	}
	if err := os.Rename(tmp, j.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("compacting the ACL journal: %w", err)
	}
	syncDir(j.dir)
	return nil
}

// setAside appends the lines that were not records to acl-journal.corrupt.
func (j *Journal) setAside(bad []badLine) error {
	var b []byte
	for _, l := range bad {
		b = append(b, l.text...)
		b = append(b, '\n')
	}
	if err := writeSynced(filepath.Join(j.dir, corruptName), b, os.O_APPEND); err != nil {
		return fmt.Errorf("keeping the ACL journal's unreadable lines: %w", err)
	}
	return nil
}

func (j *Journal) badError(bad []badLine) error {
	var sb strings.Builder
	for i, l := range bad {
		if i > 0 {
			sb.WriteString("; ")
		}
		fmt.Fprintf(&sb, "line %d: %v", l.no, l.err)
	}
	return fmt.Errorf("the ACL journal had %d unreadable line(s) (%s), moved to %s: an ACE such a line "+
		"recorded cannot be revoked automatically; read the file and remove it by hand (icacls PATH /remove:g SID, /remove:d SID)",
		len(bad), sb.String(), filepath.Join(j.dir, corruptName))
}

func (j *Journal) runLock(id string) string { return filepath.Join(j.runsDir, id+".lock") }

func writeSynced(path string, b []byte, mode int) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|mode, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a rename durable where a directory can be synced (not on Windows).
func syncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// pathKey is the form under which two grant paths are the same path: Windows paths are
// case-insensitive.
func pathKey(p string) string {
	p = filepath.Clean(p)
	if runtime.GOOS == "windows" {
		return strings.ToLower(p)
	}
	return p
}

func checkRunID(id string) error {
	ok := id != "" && len(id) <= 128 && id[0] != '.'
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("run id %q: use 1 to 128 letters, digits, '-', '_' or '.', not starting with '.'", id)
	}
	return nil
}
