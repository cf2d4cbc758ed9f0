package fileaudit

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/platform/linux/procstat"
	"golang.org/x/sys/unix"
)

// procInfo is what an event says about the process that acted.
type procInfo struct {
	pid, ppid int
	exe       string // as the sandbox sees it
	cmdline   string // arguments joined by spaces, shortened
	comm      string // the kernel's name of its program (at most 15 bytes)
}

func (p *procInfo) String() string {
	return fmt.Sprintf("%s (pid %d)", p.cmdline, p.pid)
}

// maxProcs bounds the table; past it, it starts again (a long run forks many processes).
// Each entry is bounded too (maxExecs programs of maxExecPath bytes, an executable's path of
// events.MaxPathLen), so the table stays within a few MiB whatever the agent runs.
const (
	maxProcs    = 8192
	maxExecs    = 8
	maxExecPath = 256
)

// procTable remembers the processes seen, so each is read from /proc once (and again after
// it executes another program). It is safe for concurrent use.
type procTable struct {
	mu    sync.Mutex
	procs map[int]*procInfo
	// execs are the programs each process executed, in order: a wrapper that execs its
	// interpreter (pg_dump → perl) keeps its pid, and the chain shows both.
	execs map[int][]string
	// cwds are the working directories processes executed their last program in (as the
	// sandbox sees them): where the relative paths of a refusal read after its process
	// ended most likely started (`cd dir && cat file`: cat's).
	cwds map[int]string
	// keepCwds: the kernel's refusals are read (Observer.ReadsRefusals), so an exec's
	// working directory is worth a readlink while its caller waits.
	keepCwds atomic.Bool
}

func newProcTable() *procTable {
	return &procTable{procs: map[int]*procInfo{}, execs: map[int][]string{}, cwds: map[int]string{}}
}

// lookup returns pid's information, read from /proc on first sight; nil when it is gone.
func (t *procTable) lookup(pid int) *procInfo {
	t.mu.Lock()
	p, ok := t.procs[pid]
	t.mu.Unlock()
	if ok {
		return p
	}
	p = readProc(pid)
	if p == nil {
		return nil
	}
	t.mu.Lock()
	if len(t.procs) >= maxProcs {
		t.procs = map[int]*procInfo{}
	}
	t.procs[pid] = p
	t.mu.Unlock()
	return p
}

// after is what the thread tid (of process tgid) was when it made a call the kernel reported
// after the fact (kopens, kdenials), the kernel's name of its program then being comm: the
// table's entry or /proc's if that program still runs, else — it has executed another since, or
// ended — its name and parent. What it reads of /proc is not kept: a process in the middle of
// an exec shows its new name before its command line, and a call notified later would find
// that half. ended says that /proc has nothing of it any more.
func (t *procTable) after(tid, tgid int, comm string) (p *procInfo, ended bool) {
	t.mu.Lock()
	p, ok := t.procs[tid]
	t.mu.Unlock()
	if ok && p.comm == comm {
		return p, false
	}
	if p = readProc(tid); p != nil && p.comm == comm {
		return p, false
	}
	then := &procInfo{pid: tgid, cmdline: comm, comm: comm}
	if p != nil {
		then.ppid = p.ppid
	}
	return then, p == nil
}

// executes notes that pid is about to execute path in the working directory cwd ("" when
// it could not be read): it becomes another program, read anew.
func (t *procTable) executes(pid int, path, cwd string) {
	t.mu.Lock()
	delete(t.procs, pid)
	if len(t.execs) >= maxProcs {
		t.execs = map[int][]string{}
	}
	if h := t.execs[pid]; len(h) < maxExecs {
		t.execs[pid] = append(h, events.Clip(path, maxExecPath))
	}
	if len(t.cwds) >= maxProcs {
		t.cwds = map[int]string{}
	}
	if cwd != "" {
		t.cwds[pid] = cwd
	} else {
		delete(t.cwds, pid)
	}
	t.mu.Unlock()
}

// cwdAtExec is the working directory pid executed its last program in, if known.
func (t *procTable) cwdAtExec(pid int) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cwd, ok := t.cwds[pid]
	return cwd, ok
}

// chain is p and its ancestors, innermost first, up to (not including) the process stop,
// the sandbox's PID 1. The programs a process was before its last exec follow it.
func (t *procTable) chain(p *procInfo, stop int) []string {
	var out []string
	for i := 0; p != nil && i < 16; i++ {
		out = append(out, p.String())
		t.mu.Lock()
		h := t.execs[p.pid]
		t.mu.Unlock()
		for j := len(h) - 2; j >= 0; j-- { // the last is the program it is now
			out = append(out, fmt.Sprintf("%s (pid %d, before exec)", h[j], p.pid))
		}
		if p.ppid == stop || p.ppid <= 1 {
			break
		}
		p = t.lookup(p.ppid)
	}
	return out
}

func readProc(pid int) *procInfo {
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := readProcFile(dir+"/stat", 0)
	if err != nil {
		return nil
	}
	p := &procInfo{pid: pid}
	if st, ok := procstat.Parse(stat); ok {
		p.ppid, p.comm, p.cmdline = st.PPid, st.Comm, st.Comm
	}
	p.exe, _ = os.Readlink(dir + "/exe")
	p.exe = events.Clip(p.exe, events.MaxPathLen)
	if cmd, err := readProcFile(dir+"/cmdline", maxCmdlineRead); err == nil && len(cmd) > 0 {
		p.cmdline = strings.TrimSpace(string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})))
	}
	const maxCmdline = 200
	if len(p.cmdline) > maxCmdline {
		p.cmdline = p.cmdline[:maxCmdline] + "…"
	}
	return p
}

// maxCmdlineRead is as much of a command line as readProc reads: it keeps 200 characters.
const maxCmdlineRead = 4096

// readProcFile reads a file of /proc with plain system calls, up to limit bytes (0: all of
// it). The caller of a notified system call waits while agentrun reads what it is: os.ReadFile
// would also ask the runtime's poller to take the file (fcntl, epoll_ctl refused, fcntl back)
// and fstat it, ten system calls where three do.
func readProcFile(path string, limit int) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 4096)
	for {
		if len(buf) == cap(buf) {
			if limit > 0 && len(buf) >= limit {
				return buf[:limit], nil
			}
			buf = slices.Grow(buf, cap(buf))
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		case n == 0:
			if limit > 0 && len(buf) > limit {
				buf = buf[:limit]
			}
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}
