//go:build darwin

package darwin

import (
	"fmt"
	"os/exec"
	"syscall"
	"time"

	"github.com/agentrun/agentrun/events"
)

// logPath is Apple's log command, by its absolute path.
const logPath = "/usr/bin/log"

// follower is `log stream` following one run's sandbox reports.
type follower struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startFollower starts `log stream --style ndjson` for the run's tag and returns once the
// stream is attached (its first line), or after two seconds: reports made before it attaches
// are not seen.
func startFollower(tag string, j judge, sink events.Sink) (*follower, error) {
	pred, err := logPredicate(tag)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(logPath, "stream", "--style", "ndjson", "--level", "default", "--predicate", pred)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("following the unified log: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("following the unified log (%s stream): %w", logPath, err)
	}
	f := &follower{cmd: cmd, done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		defer close(f.done)
		follow(out, tag, j, sink, ready)
	}()
	select {
	case <-ready:
	case <-time.After(2 * time.Second):
	}
	return f, nil
}

// stop ends the stream once the last reports of the run have reached it: the kernel hands
// them to logd as the agent runs, and the stream delivers them moments later.
func (f *follower) stop() {
	time.Sleep(300 * time.Millisecond)
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.done:
	case <-time.After(2 * time.Second):
		_ = f.cmd.Process.Kill()
		<-f.done
	}
	_ = f.cmd.Wait()
}
