// Package stageboot is the start of agentrun's in-sandbox stage: from this package's init, it
// reads the stage's configuration and, in the namespace tier, builds the sandbox's root,
// enters it, names the host and brings up loopback. It does so in a goroutine, while the Go
// runtime initialises the rest of agentrun's packages (about half of a stage's start), which
// the rest of the stage (platform/linux.RunStage, from cmd/agentrun's init) needs. It imports
// nothing of agentrun's but rootfs and steps, so that its init comes before theirs.
package stageboot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/agentrun/agentrun/platform/linux/rootfs"
	"github.com/agentrun/agentrun/platform/steps"
	"golang.org/x/sys/unix"
)

// Arg is the argument that makes agentrun run as the in-sandbox stage. It is not a
// subcommand: cmd/agentrun dispatches it before the CLI, from inside the sandbox only.
const Arg = "__agentrun_stage"

// The descriptors the stage gets: its configuration, and a lifeline whose other end only
// agentrun holds, so the stage sees end-of-file when agentrun dies, even by SIGKILL.
const (
	ConfigFD   = 3
	LifelineFD = 4
)

// maxConfig bounds what the stage reads of its configuration.
const maxConfig = 16 << 20

// Config is the first of the two JSON documents agentrun writes on ConfigFD, the part of the
// stage's configuration this package acts on; the second is the rest (see Wait).
type Config struct {
	// Steps is where the stage records its steps, as agentrun does (steps.Env).
	Steps string `json:"steps,omitempty"`
	// Root, in the namespaced tiers, is the root the stage builds and enters.
	Root *Root `json:"root,omitempty"`
}

// Root is a sandbox's root: built from Ops on a tmpfs at Base (a host directory, hidden by
// it), binds marked IDMap shown through IDMap.
type Root struct {
	Base  string            `json:"base"`
	Ops   []rootfs.MountOp  `json:"ops"`
	IDMap *rootfs.IDMapping `json:"idmap,omitempty"`
}

// Encode writes the stage's configuration: c, then rest (the rest of the stage's
// configuration) as its own JSON document.
func Encode(w io.Writer, c Config, rest any) error {
	enc := json.NewEncoder(w)
	if err := enc.Encode(c); err != nil {
		return err
	}
	return enc.Encode(rest)
}

// IsStage reports whether args (os.Args) are the stage's.
func IsStage(args []string) bool { return len(args) > 1 && args[1] == Arg }

// booted is what the boot left for Wait: nil in any process but the stage.
var booted chan result

type result struct {
	rest []byte
	sigs chan os.Signal
	err  error
}

func init() {
	if !IsStage(os.Args) {
		return
	}
	// The agent runs as our uid: a dumpable stage would let it write our memory through
	// /proc/1/mem and run code as PID 1.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		Fail(fmt.Errorf("making the stage non-dumpable: %w", err))
	}
	// The lifeline is agentrun's end of a socket pair: the agent must not inherit it.
	unix.CloseOnExec(LifelineFD)
	booted = make(chan result, 1)
	go func() {
		sigs := catchSignals()
		rest, err := boot()
		booted <- result{rest, sigs, err}
	}()
}

// Wait waits for the boot and returns the second document of the stage's configuration (the
// rest of it) and the signals caught since the stage started. Only the stage calls it.
func Wait() (rest []byte, sigs chan os.Signal, err error) {
	if booted == nil {
		return nil, nil, fmt.Errorf("not the stage")
	}
	r := <-booted
	return r.rest, r.sigs, r.err
}

// boot reads the configuration and, when it has a root, builds and enters it.
func boot() ([]byte, error) {
	f := os.NewFile(ConfigFD, "stage-config")
	data, err := io.ReadAll(io.LimitReader(f, maxConfig))
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the stage configuration: %w", err)
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("reading the stage configuration: %w", err)
	}
	rest := data[dec.InputOffset():]
	steps.To(c.Steps)
	steps.Step("stage: configuration read")
	if c.Root == nil {
		return rest, nil
	}
	if err := rootfs.Build(c.Root.Base, c.Root.Ops, c.Root.IDMap); err != nil {
		return nil, err
	}
	if err := rootfs.PivotInto(c.Root.Base); err != nil {
		return nil, err
	}
	if err := unix.Sethostname([]byte("agentrun")); err != nil {
		return nil, fmt.Errorf("naming the sandbox's host: %w", err)
	}
	if err := loopbackUp(); err != nil {
		return nil, err
	}
	steps.Step("stage: root built and entered")
	return rest, nil
}

// catchSignals ignores job control (signals from the terminal go to the agent's group, not to
// us) and catches the signals the stage relays to the agent, and SIGCHLD. It runs first,
// while the stage waits for its configuration: Go's signal handling starts a thread of its own
// (≈ 0.5 ms, more once seccomp is loaded), which the stage would otherwise spend between being
// confined and starting the agent. A signal that comes before the agent runs waits in the
// channel and is relayed to it then.
func catchSignals() chan os.Signal {
	signal.Ignore(unix.SIGTTOU, unix.SIGTTIN, unix.SIGTSTP)
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGCHLD)
	return sigs
}

// loopbackUp brings up lo in the sandbox's network namespace (one ioctl: netlink would cost
// more than the rest of the network set-up).
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bringing up the sandbox's loopback: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err == nil {
		err = unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr)
	}
	if err == nil {
		ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
		err = unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
	}
	if err != nil {
		return fmt.Errorf("bringing up the sandbox's loopback: %w", err)
	}
	return nil
}

// Fail is the stage failing: said on stderr, exit status 125 (agentrun's "the sandbox could not
// be set up").
func Fail(err error) {
	fmt.Fprintf(os.Stderr, "agentrun: sandbox stage: %v\n", err)
	os.Exit(125)
}
