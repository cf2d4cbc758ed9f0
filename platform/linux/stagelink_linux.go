package linux

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/stage"
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
	h, err := stage.RecvHandover(l.lifeW)
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

// childFiles are the stage's descriptors 3 and 4 (stage.ConfigFD, stage.LifelineFD).
func (l *stageLink) childFiles() []*os.File { return []*os.File{l.configR, l.lifeR} }

// send closes the stage's ends, now that it has them, and writes its configuration there and
// then: the stage reads it before anything else, so the write ends once it has (or fails
// once it has died). Written from a goroutine of its own, it waited ≈ 2 ms for a processor
// while agentrun went on, and the stage with it.
func (l *stageLink) send(cfg *stage.Config) {
	l.configR.Close()
	l.lifeR.Close()
	_ = stage.Encode(l.configW, cfg)
	l.configW.Close()
}

// Close closes everything; the lifeline's end tells the stage that agentrun is done.
func (l *stageLink) Close() {
	for _, f := range []*os.File{l.configR, l.configW, l.lifeR, l.lifeW} {
		if f != nil {
			f.Close()
		}
	}
}
