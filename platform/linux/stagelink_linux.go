package linux

import (
	"context"
	"fmt"
	"os"
	"os/signal"

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

// recvListener receives the seccomp notification descriptor the direct tier's stage sends
// once it has loaded its filter. It fails when the stage ends first.
func (l *stageLink) recvListener() (*os.File, error) {
	f, err := recvFD(l.lifeW)
	if err != nil {
		return nil, fmt.Errorf("receiving the stage's seccomp notification descriptor: %w", err)
	}
	return f, nil
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

// relaySignals forwards to the stage the signals agentrun gets, until stop is called. With a
// terminal, Ctrl-C reaches the agent through it, so SIGINT is not sent twice. An agent that
// ignores being asked to stop is killed at the second SIGTERM or SIGINT, as is the stage
// when the context is cancelled.
func relaySignals(ctx context.Context, tty bool, send func(os.Signal)) (stop func()) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT)
	done := make(chan struct{})
	go func() {
		asked := false
		for {
			select {
			case sig := <-sigs:
				terminate := sig == unix.SIGTERM || sig == unix.SIGINT
				switch {
				case terminate && asked:
					send(unix.SIGKILL)
				case tty && sig == unix.SIGINT:
				default:
					send(sig)
				}
				asked = asked || (terminate && !(tty && sig == unix.SIGINT))
			case <-ctx.Done():
				send(unix.SIGKILL)
				return
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}
