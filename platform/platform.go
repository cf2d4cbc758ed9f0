// Package platform defines what every per-OS sandbox offers to the launcher. Each backend
// (platform/linux, platform/darwin, platform/windows) compiles a profiles.Policy to its
// host's mechanisms; a host without one gets ErrUnsupported.
package platform

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/profiles"
)

// ErrUnsupported means this host has no sandbox backend in this build.
var ErrUnsupported = errors.New("no sandbox backend for this operating system in this build")

// Spec is one agent to run under a policy.
type Spec struct {
	Policy  *profiles.Policy
	Path    string   // the executable, an absolute path
	Command []string // the agent's argv; Command[0] as the user typed it
	Env     []string // the agent's whole environment
	Dir     string   // the agent's working directory
	UID     int      // the user the agent runs as
	GID     int
	Groups  []int // supplementary groups
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	// AllowDegraded lets a layer that cannot be set up be skipped instead of failing.
	AllowDegraded bool
	// AllowUnprotected lets the Landlock + seccomp tier run a policy that protects paths
	// inside writable directories, which that tier cannot keep read-only.
	AllowUnprotected bool
	// Events receives what the sandbox judged (flows, DNS queries, file and exec accesses),
	// already stamped with the run (events.Stamp); may be nil.
	Events events.Sink
	// Trace records every access, not only those enforce mode denies.
	Trace bool
	// Started, when set, is called once the agent runs (the sandbox is built), from the
	// backend's goroutine: work that must not delay the launch can begin then.
	Started func()
	// Deadline, when set, ends the run at its time (SIGTERM to every process of the sandbox,
	// SIGKILL after its grace period); Outcome says whether it did.
	Deadline *Deadline
	// Outcome, when set, is filled in by Run with what a report of the run needs.
	Outcome *Outcome
}

// LayerError reports that a confinement layer the policy needs cannot be set up on this host.
type LayerError struct {
	Layer    string // e.g. "landlock"
	Enforces string // what it would have enforced
	Fix      string // how to make it available
	Degraded string // what --allow-degraded does instead; empty: goes on without it
}

func (e *LayerError) Error() string {
	degraded := e.Degraded
	if degraded == "" {
		degraded = "goes on without it"
	}
	return fmt.Sprintf("the %s layer cannot be set up on this host, and the profile needs it (%s); fix: %s; or --allow-degraded %s", e.Layer, e.Enforces, e.Fix, degraded)
}

// OOMError reports that the agent was killed because it used more memory than its limit.
type OOMError struct {
	Limit int64 // bytes
	Code  int   // the agent's exit status
}

func (e *OOMError) Error() string {
	return fmt.Sprintf("the agent was killed: out of memory (limit %s)", profiles.FormatBytes(e.Limit))
}

// Sandbox runs a Spec under its host's confinement and returns the agent's exit status.
type Sandbox interface {
	Run(ctx context.Context, spec *Spec) (exitCode int, err error)
}
