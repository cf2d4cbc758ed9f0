//go:build linux || darwin

package ptyrelay

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// RelaySignals forwards to the agent (send) the signals agentrun gets, until stop returns:
// with a terminal, Ctrl-C reaches the agent through it, so SIGINT is not sent twice;
// an agent that ignores being asked to stop is killed at the second SIGTERM or SIGINT, and
// when ctx is cancelled.
func RelaySignals(ctx context.Context, tty bool, send func(os.Signal)) (stop func()) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		asked := false
		for {
			select {
			case sig := <-sigs:
				terminate := sig == syscall.SIGTERM || sig == syscall.SIGINT
				switch {
				case terminate && asked:
					send(syscall.SIGKILL)
				case tty && sig == syscall.SIGINT:
				default:
					send(sig)
				}
				asked = asked || (terminate && !(tty && sig == syscall.SIGINT))
			case <-ctx.Done():
				send(syscall.SIGKILL)
				return
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-ended
		// Nothing is relayed any more. signal.Stop waits for the runtime's signal loop to be
		// idle, up to a scheduling round on a busy machine (≈ 0.5 ms at the end of every run):
		// nothing needs to wait for it. Until it has run, a signal lands in sigs, unread.
		go signal.Stop(sigs)
	}
}
