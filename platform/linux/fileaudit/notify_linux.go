package fileaudit

import (
	"errors"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// seccompNotif and seccompNotifResp are the kernel's struct seccomp_notif and
// struct seccomp_notif_resp (linux/seccomp.h).
type seccompNotif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Nr    int32
	Arch  uint32
	IP    uint64
	Args  [6]uint64
}

type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// notifier serves the sandbox's seccomp user notifications. File and exec calls it lets go on
// (SECCOMP_USER_NOTIF_FLAG_CONTINUE) as soon as it has read what the call is about, then
// passes the decoded access to handle: it observes them, never allows or denies. Connects
// and sends it hands to the unix socket gate, which decides them.
type notifier struct {
	fd      int
	gate    *sockGate
	batches chan []fileAccess
	procs   *procTable
	judge   *fileJudge // nil: accesses are decoded for the gate's table only
	own     ownFS
	done    chan struct{}
	stop    [2]int // a pipe: Close writes to it to end the loop at once
	once    sync.Once
	// The gate's goroutines answer on fd after the loop may have ended: the last of them
	// closes it once Close has been called.
	gateMu     sync.Mutex
	gateActive int
	closing    bool
	// moved, when set, runs before a call that moves or removes a directory goes on, with
	// the calling thread (Observer.SetMoved).
	moved *atomic.Pointer[func(tid int)]
}

// maxBatch is how many accesses the loop collects before it hands them over even while
// calls keep coming.
const maxBatch = 256

// maxBatches is how many batches wait for the judge at most; then the loop waits, and so do
// the sandbox's calls. It bounds the memory that accesses (each up to two paths of 4 KiB)
// take when the agent makes them faster than they are judged.
const maxBatches = 16

// batchWait is how long the calls must pause before the batch so far is handed over.
const batchWait = 5 * time.Millisecond

// loopThread runs a notifier's loop on a thread made before the notifier: the sandbox's first
// notified call, the agent's own exec, then waits for a parked thread to wake, not for one to
// be made. Start hands it its notifier, or nil to end it; only the first call counts.
type loopThread struct {
	ch   chan *notifier
	once sync.Once
}

// newLoopThread starts the goroutine of a loopThread, locked to its own thread.
func newLoopThread() *loopThread {
	t := &loopThread{ch: make(chan *notifier, 1)}
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if n := <-t.ch; n != nil {
			n.loop()
		}
	}()
	return t
}

// Start runs n's loop on the thread, or ends the thread (nil).
func (t *loopThread) Start(n *notifier) { t.once.Do(func() { t.ch <- n }) }

// newNotifier serves f (the notification descriptor) until Close or until no process uses
// the filter any more, and has judge (nil: none) judge each decoded access in another
// goroutine; its loop
// runs on thread, or on a goroutine of its own when thread is nil. The accesses go over in
// batches, when no call waits or maxBatch have gathered: waking that goroutine for each one
// costs more than the call itself.
func newNotifier(f *os.File, procs *procTable, judge *fileJudge, gate *sockGate, moved *atomic.Pointer[func(tid int)], thread *loopThread) (*notifier, error) {
	fd, err := unix.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		return nil, err
	}
	n := &notifier{fd: fd, gate: gate, batches: make(chan []fileAccess, maxBatches), procs: procs, judge: judge, done: make(chan struct{}), moved: moved}
	gate.listener = fd
	if err := unix.Pipe2(n.stop[:], unix.O_CLOEXEC); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if thread != nil {
		thread.Start(n)
	} else {
		go n.loop()
	}
	go func() {
		for batch := range n.batches {
			for i := range batch {
				if judge != nil {
					judge.judge(&batch[i])
				}
				batch[i].release()
			}
		}
		close(n.done)
	}()
	return n, nil
}

func (n *notifier) loop() {
	var pending []fileAccess
	defer func() {
		if len(pending) > 0 {
			n.batches <- pending
		}
		close(n.batches)
	}()
	// The caller waits while we work: stay on one thread, and ask the kernel (6.6+) to wake
	// us on the caller's CPU, which saves a migration per call.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	_, _, _ = unix.Syscall(unix.SYS_IOCTL, uintptr(n.fd), unix.SECCOMP_IOCTL_NOTIF_SET_FLAGS, unix.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)
	pfd := []unix.PollFd{{Fd: int32(n.fd), Events: unix.POLLIN}, {Fd: int32(n.stop[0]), Events: unix.POLLIN}}
	asked := map[programID]bool{} // see fileJudge.hurries
	for {
		pfd[0].Revents, pfd[1].Revents = 0, 0
		timeout := -1
		if len(pending) > 0 {
			// Hand the batch over once calls pause for batchWait: waking the judge's
			// thread costs more than a call (an interrupt to an idle CPU).
			timeout = int(batchWait / time.Millisecond)
		}
		ready, err := unix.Poll(pfd, timeout)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
		if ready == 0 && len(pending) > 0 {
			n.batches <- pending
			pending = nil
			continue
		}
		if pfd[1].Revents != 0 {
			return
		}
		if pfd[0].Revents&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 && pfd[0].Revents&unix.POLLIN == 0 {
			return // no process uses the filter any more
		}
		if pfd[0].Revents&unix.POLLIN == 0 {
			continue
		}
		var req seccompNotif // the kernel wants it zeroed
		if err := ioctl(n.fd, unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(&req)); err != nil {
			continue // the caller died, or was interrupted: nothing to answer
		}
		if _, ok := sockCalls[uintptr(req.Nr)]; ok {
			// Decided, not observed: the gate answers, in a goroutine of its own (a
			// connect may wait for the server to accept).
			n.gateMu.Lock()
			n.gateActive++
			n.gateMu.Unlock()
			go func() {
				defer n.gateDone()
				n.gate.serve(req)
			}()
			continue
		}
		a, ok := decodeAccess(&req, n.fd, &n.own)
		if ok {
			if n.judge == nil || n.judge.needsCaller(&a) {
				// Read what the caller is while it waits: a short-lived process is gone after.
				a.proc = n.procs.lookup(a.pid)
			} else {
				a.callerUnread = true
			}
		}
		if ok && a.op == "exec" && len(a.paths) > 0 && a.exists[0] {
			// Before the exec goes on: from then on the process is another program, and a
			// lookup (the kernel's refusals are read in another goroutine) must not find
			// what it was.
			// Its working directory too, where the kernel's refusals are read (once it may
			// have ended: Observer.Refused, which starts its relative paths there).
			cwd := ""
			if n.procs.keepCwds.Load() {
				if dir, ok := baseDir(a.pid, unix.AT_FDCWD); ok {
					cwd = dir
				}
			}
			n.procs.executes(a.pid, a.paths[0], cwd)
		}
		if f := n.moved.Load(); f != nil && movesDirectory(&req, a, ok) {
			(*f)(int(req.Pid)) // before the directory has moved
		}
		resp := seccompNotifResp{ID: req.ID, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
		_ = ioctl(n.fd, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&resp))
		if !ok {
			continue
		}
		if pending = append(pending, a); len(pending) >= maxBatch || n.judge != nil && n.judge.hurries(&a, asked) {
			n.batches <- pending
			pending = nil
		}
	}
}

// Close stops serving and waits for the loop to end. Calls still waiting in the kernel fail
// with ENOSYS once the descriptor is closed; by then the sandbox has ended.
func (n *notifier) Close() {
	n.once.Do(func() {
		_, _ = unix.Write(n.stop[1], []byte{0})
		<-n.done
		unix.Close(n.stop[0])
		unix.Close(n.stop[1])
		n.gateMu.Lock()
		n.closing = true
		if n.gateActive == 0 {
			unix.Close(n.fd)
		}
		n.gateMu.Unlock()
	})
}

func (n *notifier) gateDone() {
	n.gateMu.Lock()
	n.gateActive--
	if n.gateActive == 0 && n.closing {
		unix.Close(n.fd)
	}
	n.gateMu.Unlock()
}

func ioctl(fd int, req uint, arg unsafe.Pointer) error {
	for {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return errno
		}
		return nil
	}
}

// movesDirectory says whether the call of req may move or remove a directory, changing the
// paths of what is in it: a rename whose source or target is one, a delete of one (rmdir),
// or either of those calls where the notifier could not tell (ok false).
func movesDirectory(req *seccompNotif, a fileAccess, ok bool) bool {
	if !ok {
		c, watched := watchedCalls[uintptr(req.Nr)]
		return watched && (c.op == "rename" || c.op == "delete")
	}
	if a.op != "rename" && a.op != "delete" {
		return false
	}
	for i := range a.paths {
		if a.isDir[i] || !a.exists[i] && a.op == "delete" {
			return true
		}
	}
	return false
}
