package main

import (
	"os"
	"runtime"
)

// minProcs is the fewest Ps (GOMAXPROCS) agentrun runs with. A launch has several goroutines
// at once that block in system calls in turn (the stage's start into its namespaces, the
// profile, the denial recorder's load, the plan): with as many Ps as a small machine has CPUs
// (two), a goroutine made runnable waits until sysmon takes a P from one blocked in a call (at
// least 20 µs, and sysmon's fastest tick with it). More Ps than CPUs cost nothing while they
// block. Paired on two CPUs: 0.92–0.94× a launch's wall time and 0.93× its context switches
// (docs/decisions.md); the stage, one locked thread at work, gains nothing from it.
const minProcs = 4

// procs is the GOMAXPROCS for agentrun: at least minProcs, unless the user set GOMAXPROCS.
func procs(env string, current int) int {
	if env != "" || current >= minProcs {
		return current
	}
	return minProcs
}

func init() {
	// Only a change is set: setting GOMAXPROCS ends the runtime's own updates of it (to a
	// cgroup's CPU limit), which a machine with enough CPUs keeps.
	if cur := runtime.GOMAXPROCS(0); procs(os.Getenv("GOMAXPROCS"), cur) != cur {
		runtime.GOMAXPROCS(minProcs)
	}
}
