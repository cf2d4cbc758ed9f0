package linux

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
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

// notifyQueue bounds the accesses waiting to be judged; beyond it they are counted and
// dropped rather than holding the agent up.
const notifyQueue = 1 << 16

// notifier serves the sandbox's seccomp user notifications: it lets every call go on at once
// (SECCOMP_USER_NOTIF_FLAG_CONTINUE) and passes the file and exec accesses it decoded to be
// judged. It observes; it never allows or denies anything.
type notifier struct {
	fd       int
	accesses chan fileAccess
	procs    *procTable
	dropped  atomic.Int64
	done     chan struct{}
	stop     [2]int // a pipe: Close writes to it to end the loop at once
	once     sync.Once
}

// listenSeccomp opens the unix socket libcontainer hands the notification descriptor to
// (configs.Seccomp.ListenerPath) and calls serve with it as soon as it comes: the container's
// init may already wait on a notification before libcontainer's Run returns.
func listenSeccomp(path string, serve func(*os.File)) (closeFn func(), err error) {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listening for the seccomp notification descriptor: %w", err)
	}
	go func() {
		c, err := l.AcceptUnix()
		if err != nil {
			return
		}
		defer c.Close()
		f, err := c.File()
		if err != nil {
			return
		}
		defer f.Close()
		if fd, err := recvFD(f); err == nil {
			serve(fd)
		}
	}()
	return func() {
		l.Close()
		os.Remove(path)
	}, nil
}

// newNotifier serves f (the notification descriptor) until Close or until no process uses
// the filter any more.
func newNotifier(f *os.File) (*notifier, error) {
	fd, err := unix.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		return nil, err
	}
	n := &notifier{
		fd:       fd,
		accesses: make(chan fileAccess, notifyQueue),
		procs:    newProcTable(),
		done:     make(chan struct{}),
	}
	if err := unix.Pipe2(n.stop[:], unix.O_CLOEXEC); err != nil {
		unix.Close(fd)
		return nil, err
	}
	go n.loop()
	return n, nil
}

func (n *notifier) loop() {
	defer close(n.done)
	defer close(n.accesses)
	pfd := []unix.PollFd{{Fd: int32(n.fd), Events: unix.POLLIN}, {Fd: int32(n.stop[0]), Events: unix.POLLIN}}
	for {
		pfd[0].Revents, pfd[1].Revents = 0, 0
		if _, err := unix.Poll(pfd, -1); err != nil && !errors.Is(err, unix.EINTR) {
			return
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
		a, ok := decodeAccess(&req)
		if ok {
			// Read what the caller is while it waits: a short-lived process is gone after.
			a.proc = n.procs.lookup(a.pid)
		}
		resp := seccompNotifResp{ID: req.ID, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
		_ = ioctl(n.fd, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&resp))
		if !ok {
			continue
		}
		if a.op == "exec" && len(a.paths) > 0 && a.exists[0] {
			n.procs.executes(a.pid, a.paths[0])
		}
		select {
		case n.accesses <- a:
		default:
			n.dropped.Add(1)
		}
	}
}

// Close stops serving and waits for the loop to end. Calls still waiting in the kernel fail
// with ENOSYS once the descriptor is closed; by then the sandbox has ended.
func (n *notifier) Close() {
	n.once.Do(func() {
		_, _ = unix.Write(n.stop[1], []byte{0})
		<-n.done
		unix.Close(n.fd)
		unix.Close(n.stop[0])
		unix.Close(n.stop[1])
	})
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
