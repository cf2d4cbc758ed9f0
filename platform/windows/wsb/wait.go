package wsb

import (
	"context"
	"errors"
	"time"
)

// ErrNeverOpened means the sandbox's window did not appear after the launch.
var ErrNeverOpened = errors.New("the Windows Sandbox window did not open")

// waiter watches one sandbox until it is closed.
type waiter struct {
	// open reports whether the sandbox is running.
	open func() (bool, error)
	// exited reports whether the agent's exit status is written; called at each poll until it
	// is, then onExit runs once.
	exited func() bool
	onExit func()
	// Every is the time between two polls; Appear is how long the window may take to open
	// (a sandbox boots in seconds, its first start after enabling in a minute or more).
	Every, Appear time.Duration
	sleep         func(context.Context, time.Duration) error
}

// wait polls until the sandbox has opened and closed again (appeared false: it was already
// running, as after wsb start). It returns ctx's error when ctx ends first.
func (w *waiter) wait(ctx context.Context, appeared bool) error {
	sleep := w.sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	var waited time.Duration
	seenExit := false
	for {
		open, err := w.open()
		if err != nil {
			return err
		}
		if !seenExit && w.exited != nil && w.exited() {
			seenExit = true
			if w.onExit != nil {
				w.onExit()
			}
		}
		switch {
		case open:
			appeared = true
		case appeared:
			return nil
		case waited >= w.Appear:
			return ErrNeverOpened
		}
		if err := sleep(ctx, w.Every); err != nil {
			return err
		}
		waited += w.Every
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ErrNoExit means the sandbox closed before the agent's exit status was written: the window
// was closed while the agent ran, or it never started.
var ErrNoExit = errors.New("the sandbox was closed before the agent exited: no exit status (a closed sandbox keeps nothing)")
