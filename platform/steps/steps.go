// Package steps timestamps the steps of a launch, for bench/launch -steps: agentrun and its
// stage append a line per step to the file Env names. It imports nothing of agentrun's, so
// that any package may record steps (rootfs, the stage) without importing platform.
package steps

import (
	"fmt"
	"os"
	"sync"
)

// Env names a file to which agentrun appends one line for each step of a launch, as it
// reaches it: a monotonic clock's nanoseconds (the same clock in every process of the run),
// the process's id and the step's name. `go run ./bench/launch -steps` sets it and says where
// a launch's time goes. Unset, nothing is written.
const Env = "AGENTRUN_BENCH_STEPS"

var (
	stepsMu   sync.Mutex
	stepsFile *os.File
	stepsOnce sync.Once
)

// openSteps is the file Step writes to: path, or none for "".
func openSteps(path string) *os.File {
	if path == "" {
		return nil
	}
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	return f
}

// Enabled reports whether Env asks for the steps: a step whose name costs work to make is
// made only then.
func Enabled() bool {
	stepsOnce.Do(func() { stepsFile = openSteps(os.Getenv(Env)) })
	return stepsFile != nil
}

// Step records that the launch reached the step name, when Env asks for it.
func Step(name string) {
	if !Enabled() {
		return
	}
	stepsMu.Lock()
	defer stepsMu.Unlock()
	fmt.Fprintf(stepsFile, "%d %d %s\n", Clock(), os.Getpid(), name)
}
