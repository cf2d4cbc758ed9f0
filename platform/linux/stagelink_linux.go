package linux

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// stageLink is agentrun's side of the stage's two descriptors: the pipe that carries its
// configuration, and the lifeline that only agentrun holds open. The lifeline is a socket
// pair, so that the direct tier's stage can hand agentrun its seccomp notification
// descriptor over it.
type stageLink struct {
	configR, configW *os.File
	lifeR, lifeW     *os.File
}

func newStageLink() (*stageLink, error) {
	l := &stageLink{}
	var err error
	if l.configR, l.configW, err = os.Pipe(); err != nil {
		return nil, err
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("creating the stage's lifeline: %w", err)
	}
	l.lifeR, l.lifeW = os.NewFile(uintptr(fds[0]), "lifeline-stage"), os.NewFile(uintptr(fds[1]), "lifeline")
	return l, nil
}

// recvHandover receives what the stage hands over once it is confined (see handover). It
// fails when the stage ends first.
func (l *stageLink) recvHandover() (map[byte]*os.File, error) {
	h, err := recvHandover(l.lifeW)
	if err != nil {
		return nil, fmt.Errorf("receiving the sandbox's descriptors from its stage: %w", err)
	}
	return h, nil
}

// proceed tells the stage it is in its cgroup and may go on.
func (l *stageLink) proceed() error {
	if _, err := l.lifeW.Write([]byte{1}); err != nil {
		return fmt.Errorf("telling the sandbox stage to go on: %w", err)
	}
	return nil
}

// childFiles are the stage's descriptors 3 and 4 (stageFD, lifelineFD).
func (l *stageLink) childFiles() []*os.File { return []*os.File{l.configR, l.lifeR} }

// send closes the stage's ends, now that it has them, and writes its configuration.
func (l *stageLink) send(cfg *stageConfig) {
	l.configR.Close()
	l.lifeR.Close()
	go func() {
		_ = encodeStage(l.configW, cfg)
		l.configW.Close()
	}()
}

// Close closes everything; the lifeline's end tells the stage that agentrun is done.
func (l *stageLink) Close() {
	for _, f := range []*os.File{l.configR, l.configW, l.lifeR, l.lifeW} {
		if f != nil {
			f.Close()
		}
	}
}

// What the stage hands agentrun, each named by a byte of the message.
const (
	handoverListener = 'L' // the seccomp notification descriptor
	handoverTerminal = 'P' // the master of the agent's terminal
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
		out <- unix.Sendmsg(lifelineFD, append([]byte{'H'}, h.kinds...), oob, nil, 0)
	}()
	<-ready
	return func(h handover) error {
		in <- h
		return <-out
	}
}

// recvHandover reads one handover from sock.
func recvHandover(sock *os.File) (map[byte]*os.File, error) {
	data, fds, err := recvRights(sock, 16, 4)
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

// recvRights reads one message of up to size bytes and maxFDs descriptors (SCM_RIGHTS),
// received close-on-exec. An empty message is the other end closing.
func recvRights(sock *os.File, size, maxFDs int) ([]byte, []int, error) {
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
