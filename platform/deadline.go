package platform

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// WatchDeadline ends a run at d (agentrun --timeout), once the agent runs: term asks every
// process of the sandbox to end (SIGTERM), and kill ends the sandbox d.Grace later if the
// agent has not ended by then (or at once if term fails). out records both. stop ends the
// watch and returns once it has, so out is settled when it returns; a nil d is no deadline.
func WatchDeadline(d *Deadline, out *Outcome, term func() error, kill func()) (stop func()) {
	if d == nil {
		return func() {}
	}
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		timer := time.NewTimer(time.Until(d.At))
		defer timer.Stop()
		select {
		case <-done:
			return
		case <-timer.C:
		}
		out.TimedOut = true
		if err := term(); err != nil {
			out.Killed = true
			kill()
			return
		}
		grace := time.NewTimer(d.Grace)
		defer grace.Stop()
		select {
		case <-done:
		case <-grace.C:
			out.Killed = true
			kill()
		}
	}()
	return func() {
		close(done)
		<-ended
	}
}

// ExitCode is the agent's status as a shell reports it: its exit code, or 128+N when killed
// by signal N; -1 when there is none.
func ExitCode(state *os.ProcessState, err error) int {
	var exitErr *exec.ExitError
	if state == nil && errors.As(err, &exitErr) {
		state = exitErr.ProcessState
	}
	if state == nil {
		return -1
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return state.ExitCode()
}
