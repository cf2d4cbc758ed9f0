package fileaudit

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/profiles"
)

// scriptReader reads the #! lines of the programs the agent executes, to judge their
// interpreters too (pg_dump is a Perl wrapper), off the notification loop and off the judge:
// a read can still wait (a file on a FUSE or network file system), and neither may ever wait
// on the agent. At most maxScriptReads reads run at once; the others wait their turn, up to
// maxScriptWaiting of them, each holding its exec'd file. A program past that, or not read
// when the run ends, is counted (unread) and the run says so: its interpreter is not judged,
// and an agent must not be able to hide a refused one behind a flood of execs. What is read is
// never reached through a path in the host's view: the exec'd file is the O_PATH descriptor
// decodeAccess resolved in the agent's view, opened for reading only when it is a regular
// file — a FIFO or a device is never opened — without blocking, and read for at most
// shebangMax bytes.
type scriptReader struct {
	slots chan struct{}
	wg    sync.WaitGroup
	// todo counts the reads started and not done, waiting for a slot or under way.
	todo   atomic.Int64
	unread atomic.Int64
	mu     sync.Mutex
	closed bool // after close: late results are dropped
}

const (
	maxScriptReads   = 4
	maxScriptWaiting = 256
	// maxScriptDepth is how many interpreters deep the kernel goes (a script run by a
	// script…) before it gives up with ELOOP.
	maxScriptDepth = 4
	// scriptDrain is how long the end of a run waits for reads still under way.
	scriptDrain = 2 * time.Second
)

func newScriptReader() scriptReader {
	return scriptReader{slots: make(chan struct{}, maxScriptReads)}
}

// start takes a's exec file and view and judges the interpreters its #! lines name, in a
// goroutine of its own once a slot is free.
func (s *scriptReader) start(j *fileJudge, a *fileAccess) {
	s.mu.Lock()
	if s.closed || s.todo.Load() >= maxScriptReads+maxScriptWaiting {
		s.mu.Unlock()
		s.unread.Add(1) // release closes a's descriptors
		return
	}
	s.todo.Add(1)
	s.wg.Add(1)
	s.mu.Unlock()
	taken := *a
	a.execFD, a.view = -1, nil
	go func() {
		defer s.wg.Done()
		defer taken.release()
		s.slots <- struct{}{}
		defer func() { <-s.slots }()
		if !s.closing() {
			s.judgeInterpreters(j, &taken)
		}
		s.mu.Lock()
		if !s.closed {
			s.todo.Add(-1) // done in time: close counts what is not
		}
		s.mu.Unlock()
	}()
}

func (s *scriptReader) judgeInterpreters(j *fileJudge, a *fileAccess) {
	seen := map[string]bool{a.paths[0]: true}
	for depth := 0; depth < maxScriptDepth; depth++ {
		head, id := readScriptHead(a.execFD)
		interp := shebang(head)
		if depth == 0 && len(head) > 0 && id == a.execID {
			j.programs.add(id, interp == "") // as the call found it: see needsCaller
		}
		if interp == "" || interp[0] != '/' {
			return // not a script, or a relative interpreter (rare; not judged)
		}
		r := a.view.resolve(interp, true, true)
		unix.Close(a.execFD)
		a.execFD = r.fd
		if !r.exists || seen[r.path] {
			return // the kernel fails (ENOENT), or the script names itself
		}
		seen[r.path] = true
		if a.ownFS != nil && a.ownFS.has(r) {
			return
		}
		if s.closing() {
			return
		}
		j.judgePath(a, r.path, "exec", profiles.AccessExec, true, r.dir)
		if a.execFD < 0 {
			return
		}
	}
}

// closing reports whether close has ended the reader: what is found now is not recorded.
func (s *scriptReader) closing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// close waits a little for the reads under way; what they find later is not recorded, and
// they count as unread, as do those still waiting.
func (s *scriptReader) close() {
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(scriptDrain):
	}
	s.mu.Lock()
	s.closed = true
	s.unread.Add(s.todo.Load())
	s.mu.Unlock()
}

// readScriptHead reads the first shebangMax bytes of the regular file fd (O_PATH) refers
// to. It reopens that very inode through /proc/self/fd, for reading, without blocking (a
// lease the agent holds makes the open fail rather than wait), and checks it got the same
// file; anything else — a FIFO, a device, a socket, a directory — is never opened. id is the
// file's version once read: what was read is that version's when id is also what it was
// before.
func readScriptHead(fd int) (head []byte, id programID) {
	if fd < 0 {
		return nil, id
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o111 == 0 {
		return nil, id // not a regular file, or not executable: the kernel runs no script
	}
	rfd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, id
	}
	defer unix.Close(rfd)
	var rst unix.Stat_t
	if unix.Fstat(rfd, &rst) != nil || rst.Dev != st.Dev || rst.Ino != st.Ino || rst.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, id
	}
	buf := make([]byte, shebangMax)
	n, err := unix.Pread(rfd, buf, 0)
	if err != nil || n <= 0 {
		return nil, id
	}
	if unix.Fstat(rfd, &rst) == nil {
		id = programIDOf(rfd, &rst)
	}
	return buf[:n], id
}
