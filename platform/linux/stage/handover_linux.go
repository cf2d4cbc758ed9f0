package stage

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// What the stage hands agentrun, each named by a byte of the message.
const (
	HandoverListener = 'L' // the seccomp notification descriptor
	HandoverTerminal = 'P' // the master of the agent's terminal
)

// handover is one message from the stage: a byte per descriptor, and the descriptors.
type handover struct {
	kinds []byte
	fds   []int
}

func (h *handover) add(kind byte, fd int) {
	h.kinds = append(h.kinds, kind)
	h.fds = append(h.fds, fd)
}

// startSender starts a thread, before the seccomp filter exists, that sends one handover to
// agentrun over the lifeline: the filter notifies agentrun of sendmsg, and agentrun can only
// answer once it has the notification descriptor. send returns once the message is sent.
func startSender() (send func(handover) error) {
	in, out := make(chan handover), make(chan error)
	ready := make(chan struct{})
	go func() {
		runtime.LockOSThread() // this thread stays without the filter; it ends with the goroutine
		close(ready)
		h := <-in
		var oob []byte
		if len(h.fds) > 0 {
			oob = unix.UnixRights(h.fds...)
		}
		out <- unix.Sendmsg(LifelineFD, append([]byte{'H'}, h.kinds...), oob, nil, 0)
	}()
	<-ready
	return func(h handover) error {
		in <- h
		return <-out
	}
}

// RecvHandover reads one handover from sock.
func RecvHandover(sock *os.File) (map[byte]*os.File, error) {
	data, fds, err := RecvRights(sock, 16, 4)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 || data[0] != 'H' || len(data)-1 != len(fds) {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("malformed message from the stage")
	}
	out := map[byte]*os.File{}
	for i, k := range data[1:] {
		out[k] = os.NewFile(uintptr(fds[i]), string(k))
	}
	return out, nil
}

// RecvRights reads one message of up to size bytes and maxFDs descriptors (SCM_RIGHTS),
// received close-on-exec. An empty message is the other end closing.
func RecvRights(sock *os.File, size, maxFDs int) ([]byte, []int, error) {
	buf := make([]byte, size)
	oob := make([]byte, unix.CmsgSpace(4*maxFDs))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, nil, err
	}
	if n == 0 && oobn == 0 {
		return nil, nil, fmt.Errorf("the other end closed")
	}
	var fds []int
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			return nil, nil, fmt.Errorf("expected one control message (%v)", err)
		}
		if fds, err = unix.ParseUnixRights(&msgs[0]); err != nil {
			return nil, nil, err
		}
	}
	return buf[:n], fds, nil
}
