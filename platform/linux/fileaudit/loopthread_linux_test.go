package fileaudit

import (
	"runtime"
	"testing"
	"time"
)

// TestLoopThreadEnds checks that a loop thread whose notifier never comes ends when told
// (Observer.Close), and that only the first Start counts: a second neither blocks nor starts
// anything.
func TestLoopThreadEnds(t *testing.T) {
	before := runtime.NumGoroutine()
	threads := make([]*loopThread, 20)
	for i := range threads {
		threads[i] = newLoopThread()
	}
	if n := runtime.NumGoroutine(); n < before+len(threads) {
		t.Fatalf("%d goroutines after starting %d loop threads, %d before", n, len(threads), before)
	}
	for _, th := range threads {
		th.Start(nil)
		th.Start(nil) // once only: the channel holds one, and the goroutine takes one
		th.Start(nil)
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines still running, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(time.Millisecond)
	}
}
