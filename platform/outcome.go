package platform

import "time"

// Deadline is when a run must end (agentrun --timeout): at At every process of the sandbox
// is sent SIGTERM, Grace later those still there are killed.
type Deadline struct {
	At    time.Time
	Grace time.Duration
}

// Outcome is what a backend learned about one run, for its report (agentrun --report). Run
// fills it in when Spec.Outcome is set; it is complete once Run returns.
type Outcome struct {
	// Tier is how the run was confined: "namespaces" (the sandbox agentrun builds) or
	// "landlock+seccomp" (the tier without namespaces).
	Tier string
	// Layers are the layers of the run as it was launched, those given up by --allow-degraded
	// marked not Available.
	Layers []Layer
	// TimedOut: the deadline was reached and the sandbox was sent SIGTERM.
	TimedOut bool
	// Killed: processes were still there after the grace period and were killed.
	Killed bool
	// Usage is what the run's cgroup measured, read only when the caller set WantUsage (a
	// report will show it): reading it is work every run would pay for otherwise.
	Usage     Usage
	WantUsage bool
}

// Usage is what a run's cgroup measured; a nil field is not known, and UnknownWhy says why.
type Usage struct {
	MemoryPeakBytes *int64
	PidsPeak        *int64
	CPUMicros       *int64 // user + system CPU time, microseconds
	UnknownWhy      string
}
