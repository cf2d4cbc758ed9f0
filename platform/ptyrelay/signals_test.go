//go:build linux || darwin

package ptyrelay

import (
	"context"
	"os"
	"os/signal"
	"reflect"
	"syscall"
	"testing"
)

// TestRelaySignals sends real signals to the test's own process while the relay holds them.
func TestRelaySignals(t *testing.T) {
	for _, tc := range []struct {
		name string
		tty  bool
		send []syscall.Signal
		want []os.Signal
	}{
		{"hangup and quit pass", false, []syscall.Signal{syscall.SIGHUP, syscall.SIGQUIT}, []os.Signal{syscall.SIGHUP, syscall.SIGQUIT}},
		{"second TERM kills", false, []syscall.Signal{syscall.SIGTERM, syscall.SIGTERM}, []os.Signal{syscall.SIGTERM, syscall.SIGKILL}},
		{"INT then TERM kills", false, []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}, []os.Signal{syscall.SIGINT, syscall.SIGKILL}},
		// SIGQUIT is sent once the runtime has handed INT to every channel (seen), so that
		// the relay reads INT before QUIT; a kept INT still on its way would land in the
		// next relay's channel (the kernel may hand the two to two threads at once).
		{"terminal keeps INT", true, []syscall.Signal{syscall.SIGINT, syscall.SIGQUIT}, []os.Signal{syscall.SIGQUIT}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan os.Signal, 8)
			seen := make(chan os.Signal, 8)
			signal.Notify(seen, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)
			defer signal.Stop(seen)
			stop := RelaySignals(context.Background(), tc.tty, func(s os.Signal) { got <- s })
			for i, s := range tc.send {
				if err := syscall.Kill(os.Getpid(), s); err != nil {
					t.Fatal(err)
				}
				if r := <-seen; r != s {
					t.Fatalf("the runtime handed over %v, want %v", r, s)
				}
				if i < len(tc.want) && len(tc.want) == len(tc.send) {
					// One forwarded signal per sent one: wait for it before the next.
					<-waitFor(got, tc.want[i], t)
				}
			}
			if len(tc.want) != len(tc.send) {
				// The terminal case: INT is kept, QUIT passes.
				<-waitFor(got, tc.want[0], t)
			}
			stop()
			close(got)
			for s := range got {
				t.Errorf("also forwarded %v", s)
			}
		})
	}
	t.Run("cancel kills", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		got := make(chan os.Signal, 1)
		stop := RelaySignals(ctx, false, func(s os.Signal) { got <- s })
		cancel()
		if s := <-got; !reflect.DeepEqual(s, syscall.SIGKILL) {
			t.Errorf("cancel sent %v", s)
		}
		stop()
	})
}

func waitFor(got chan os.Signal, want os.Signal, t *testing.T) chan struct{} {
	t.Helper()
	done := make(chan struct{})
	if s := <-got; s != want {
		t.Errorf("forwarded %v, want %v", s, want)
	}
	close(done)
	return done
}
