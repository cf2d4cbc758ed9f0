package platform

import (
	"io"

	"github.com/agentrun/agentrun/profiles"
)

// Backend is one host's sandbox as the launcher and the command line use it: it runs agents,
// says which layers confine a policy here and what the host offers, prepares the host once,
// and compiles policies to its mechanisms. Each OS has one (platform/linux), chosen by the
// program's main and passed in; a host without one gets Unsupported.
type Backend interface {
	Sandbox
	// Probe reports whether this build can run agents here at all: ErrUnsupported when not.
	// What a policy needs beyond that is for Layers and Run to say.
	Probe() error
	// Layers lists the mechanisms pol is compiled to on this host, and which of them the host
	// can set up.
	Layers(pol *profiles.Policy) []Layer
	// Doctor writes what this host offers agentrun and which tier a run gets.
	Doctor(w io.Writer) error
	// Setup prepares the host once (agentrun setup) and says what it did.
	Setup() ([]string, error)
	// Targets are what agentrun compile can turn a policy into with this backend's mechanisms.
	Targets() []Target
	// Warm may begin, before the plan is made, what the next Run with this standard I/O will
	// need whatever the policy, so that the two overlap; release ends it if no Run took it.
	Warm(stdin io.Reader, stdout, stderr io.Writer) (release func())
	// RuntimeDirs are the directories of the backend's runtime state, agentrun's own files
	// that no agent may see.
	RuntimeDirs() []string
}

// Layer is one confinement mechanism as it applies to one policy on one host.
type Layer struct {
	Name      string
	Enforces  string // what it enforces for this policy
	Needed    bool   // the policy needs it
	Available bool   // this host can set it up
	Fix       string // how to make it available, when it is not
	Degraded  string // what --allow-degraded does instead; empty: goes on without it
	// Records: the layer records what happens, it confines nothing; missing, it is said but
	// never stops a run.
	Records bool
}

// LayerFileEvents is the name of the layer that records file and exec accesses (seccomp user
// notifications on Linux). Where a host cannot set it up, no file event is recorded, in any
// mode, and a path the agent could not reach is named nowhere.
const LayerFileEvents = "file events"

// LayerDenials is the name of the layer that records, in enforce mode, the file calls the
// kernel refused, reads and writes (on Linux a BPF program on the sandbox's system calls, where
// agentrun may load one; execs are seen before they happen). Where it is missing, enforce mode
// records no denial, since no file call waits for agentrun: NoDenialRecords says so.
const LayerDenials = "denial records"

// NoDenialRecords is what a run, --dry-run and doctor say where enforce mode cannot record the
// file accesses it denies.
const NoDenialRecords = "denials in enforce mode are not recorded on this host: use --mode audit or --trace to see them"

// Target is one thing a policy compiles to (agentrun compile --target NAME).
type Target struct {
	Name    string
	Usage   string
	Compile func(*profiles.Policy) ([]byte, error)
}

// RunnableChecker is a Backend whose confinement decides differently from the policy's
// exec rules whether the agent's own program runs (Windows, where exec rules name Unix paths
// and only the write roots are kept from running programs): the launcher asks it instead of
// matching the rules. An error says why the sandbox will not run the command (the launcher
// stops before building it, exit 126) and what to do.
type RunnableChecker interface {
	CheckRunnable(pol *profiles.Policy, path string) error
}
