package acl

import (
	"os"
	"runtime"
)

// liveness answers whether runs are alive during one journal edit, probing each run's lock
// once. A dead run's probe holds its lock until close, so that the run cannot come back
// (Begin with the same id) in between.
type liveness struct {
	j     *Journal
	self  string // the run being ended: not alive, not probed (its own lock is held here)
	known map[string]bool
	held  map[string]*os.File
}

func (j *Journal) liveness(self string) *liveness {
	return &liveness{j: j, self: self, known: map[string]bool{}, held: map[string]*os.File{}}
}

func (l *liveness) alive(id string) (bool, error) {
	if id == l.self {
		return false, nil
	}
	if v, ok := l.known[id]; ok {
		return v, nil
	}
	held, f, err := probeLock(l.j.runLock(id))
	if err != nil {
		return false, err
	}
	if f != nil {
		l.held[id] = f
	}
	l.known[id] = held
	return held, nil
}

// forget removes a dead run's lock file; on Unix while its lock is still held here, so that
// a Begin racing for the same id sees its file replaced.
func (l *liveness) forget(id string) {
	f := l.held[id]
	if f == nil {
		return
	}
	if runtime.GOOS != "windows" {
		os.Remove(f.Name())
		f.Close()
	} else {
		f.Close()
		os.Remove(f.Name())
	}
	delete(l.held, id)
}

func (l *liveness) close() {
	for id, f := range l.held {
		f.Close()
		delete(l.held, id)
	}
}
