package launcher

import (
	"errors"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/agentrun/agentrun/platform/safefs"
)

// gitScanWorkers is how many directories the walk for repositories reads at once: its time is
// the kernel's (getdents), which any CPU can spend. BenchmarkScanGit on two CPUs: one reader
// 28 ms, two to eight 16–18 ms.
func gitScanWorkers() int { return max(2, min(runtime.NumCPU(), 8)) }

// gitFound is what the walk found for the checks: a git directory, or a .git entry that is a
// symbolic link or a file (a "gitdir:" pointer), by its path beneath the workspace.
type gitFound struct {
	rel  string
	kind gitFoundKind
}

type gitFoundKind int

const (
	foundGitDir gitFoundKind = iota
	foundGitLink
	foundGitFile
)

// gitWalk walks a workspace for git's directories and .git entries, several directories at a
// time, breadth first: the queue is read in order, so shallow directories come first, and the
// bound stops it at the deepest.
type gitWalk struct {
	r       *safefs.Root
	max     int // directories read at most
	mu      sync.Mutex
	changed *sync.Cond // the queue grew, or a reader finished
	queue   []string
	head    int // queue[head:] are still to be read
	reading int
	visited int
	stopped string // the first directory the bound left unread
	found   []gitFound
	// unread are the directories that could not be listed (permissions the agent set, a path
	// longer than PATH_MAX): what is beneath them is not known.
	unread []unreadDir
}

// unreadDir is a directory the walk could not list, and why.
type unreadDir struct {
	rel string
	err error
}

// walkGit walks r from the directories from (relative paths; "." is r). It returns what it
// found, shallowest first (then by path), the first directory left unread when more than
// maxDirs were to be read ("" when none was), the directories that could not be listed, by
// path, and how many it read.
func walkGit(r *safefs.Root, from []string, maxDirs, workers int) ([]gitFound, string, []unreadDir, int) {
	w := &gitWalk{r: r, max: maxDirs, queue: append([]string(nil), from...)}
	w.changed = sync.NewCond(&w.mu)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(w.work)
	}
	wg.Wait()
	sortFound(w.found)
	sort.Slice(w.unread, func(i, j int) bool { return w.unread[i].rel < w.unread[j].rel })
	return w.found, w.stopped, w.unread, w.visited
}

// sortFound sorts found shallowest first, then by path.
func sortFound(found []gitFound) {
	sort.Slice(found, func(i, j int) bool {
		a, b := found[i].rel, found[j].rel
		if da, db := strings.Count(a, "/"), strings.Count(b, "/"); da != db {
			return da < db
		}
		return a < b
	})
}

// work reads queued directories until none is queued and none is being read (which could
// queue more).
func (w *gitWalk) work() {
	buf := make([]byte, 16<<10) // the listings, one after the other
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		for w.head == len(w.queue) && w.reading > 0 {
			w.changed.Wait()
		}
		if w.head == len(w.queue) {
			w.changed.Broadcast()
			return
		}
		if w.visited == w.max {
			if w.stopped == "" {
				w.stopped = w.queue[w.head]
			}
			w.queue, w.head = nil, 0 // what readers still queue is dropped here next
			continue
		}
		dir := w.queue[w.head]
		w.queue[w.head] = ""
		w.head++
		if w.head > 4096 && w.head*2 > len(w.queue) {
			w.queue, w.head = append(w.queue[:0], w.queue[w.head:]...), 0
		}
		w.visited++
		w.reading++
		w.mu.Unlock()
		subdirs, found, err := w.read(dir, buf)
		w.mu.Lock()
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path is dir's
			}
			w.unread = append(w.unread, unreadDir{dir, err})
		}
		w.reading--
		w.queue = append(w.queue, subdirs...)
		w.found = append(w.found, found...)
		w.changed.Broadcast()
	}
}

// read lists dir: the subdirectories to walk (not the data directories of a .git directory)
// and what the checks need; or why it could not (a directory gone since it was listed is no
// error). buf holds the listing.
func (w *gitWalk) read(dir string, buf []byte) (subdirs []string, found []gitFound, err error) {
	d, err := w.r.OpenDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	defer d.Close()
	var head, data bool
	err = d.Entries(buf, func(name []byte, typ fs.FileMode) {
		switch string(name) {
		case "HEAD":
			head = true
		case "objects", "commondir":
			data = true
		case ".git":
			switch typ {
			case fs.ModeSymlink:
				found = append(found, gitFound{join(dir, ".git"), foundGitLink})
			case 0:
				found = append(found, gitFound{join(dir, ".git"), foundGitFile})
			}
		}
		if typ == fs.ModeDir {
			subdirs = append(subdirs, join(dir, string(name)))
		}
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	// A loose form of git's own test (setup.c is_git_directory): an entry named HEAD, and one
	// named objects or commondir, whatever their types. Git asks access(2) and readlink(2),
	// not for a type: a link named HEAD, and objects as a link to any directory or as an
	// executable file, pass its test.
	isGitDir := head && data
	if isGitDir {
		found = append(found, gitFound{dir, foundGitDir})
	}
	if isGitDir && skipsData(dir) {
		kept := subdirs[:0]
		for _, sub := range subdirs {
			if !gitSkip[path.Base(sub)] {
				kept = append(kept, sub)
			}
		}
		subdirs = kept
	}
	return subdirs, found, nil
}

// join is rel/name, or name beneath the root.
func join(rel, name string) string {
	if rel == "." {
		return name
	}
	return rel + "/" + name
}

// skipsData reports whether the walk may pass over the data directories (gitSkip) of the git
// directory dir: only one at or beneath a directory named .git, where no user works. Anywhere
// else an entry named HEAD and one named objects would hide a project's logs or refs.
func skipsData(dir string) bool {
	return dir == ".git" || strings.HasPrefix(dir, ".git/") || strings.HasSuffix(dir, "/.git") || strings.Contains(dir, "/.git/")
}
