package wsb

import (
	"context"
	"errors"
	"testing"
	"time"
)

// fakeSandbox answers open from a script of states, one per poll.
type fakeSandbox struct {
	states []bool
	polls  int
}

func (f *fakeSandbox) open() (bool, error) {
	i := f.polls
	f.polls++
	if i >= len(f.states) {
		return f.states[len(f.states)-1], nil
	}
	return f.states[i], nil
}

func noSleep(context.Context, time.Duration) error { return nil }

func TestWait(t *testing.T) {
	for _, tc := range []struct {
		name     string
		states   []bool
		appeared bool
		want     error
		polls    int
	}{
		{"opens, then closes", []bool{false, false, true, true, false}, false, nil, 5},
		{"started already (wsb start)", []bool{true, false}, true, nil, 2},
		{"never opens", []bool{false}, false, ErrNeverOpened, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeSandbox{states: tc.states}
			w := &waiter{open: f.open, Every: time.Second, Appear: 3 * time.Second, sleep: noSleep}
			if err := w.wait(context.Background(), tc.appeared); !errors.Is(err, tc.want) {
				t.Errorf("wait = %v, want %v", err, tc.want)
			}
			if f.polls != tc.polls {
				t.Errorf("%d polls, want %d", f.polls, tc.polls)
			}
		})
	}
}

func TestWaitExitOnce(t *testing.T) {
	f := &fakeSandbox{states: []bool{true, true, true, false}}
	exits := 0
	w := &waiter{open: f.open, exited: func() bool { return f.polls >= 2 }, onExit: func() { exits++ }, Every: time.Second, Appear: time.Second, sleep: noSleep}
	if err := w.wait(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if exits != 1 {
		t.Errorf("onExit ran %d times, want once", exits)
	}
}

func TestWaitCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := &waiter{open: (&fakeSandbox{states: []bool{true}}).open, Every: time.Hour, Appear: time.Hour}
	if err := w.wait(ctx, true); !errors.Is(err, context.Canceled) {
		t.Errorf("wait = %v, want context.Canceled", err)
	}
}
