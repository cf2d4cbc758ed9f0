package stage

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/agentrun/agentrun/platform/linux/rootfs"
	"github.com/agentrun/agentrun/platform/linux/seccompfilter/seccompprog"
)

// Arg is the argument that makes agentrun, or agentrun-stage, run as the stage. It is not a
// subcommand: it is dispatched before agentrun's command line is read.
const Arg = "__agentrun_stage"

// IDMapEnv names the stage's environment variable that holds the idmapping agentrun expects
// the run to need (the owner's ids, then the agent's), so that the stage makes its user
// namespace while it reads its configuration (rootfs.StartIDMap). A guess, made before the
// profile is resolved: the root's binds use it only where the configuration names the same
// idmapping. In the environment, not the arguments: the stage's environment is its own (the
// agent's comes with the configuration), and a non-dumpable PID 1's is not the agent's to read.
const IDMapEnv = "AGENTRUN_STAGE_IDMAP"

// IDMapValue is IDMapEnv's value for m.
func IDMapValue(m rootfs.IDMapping) string {
	return fmt.Sprintf("%d:%d:%d:%d", m.OwnerUID, m.OwnerGID, m.UID, m.GID)
}

// idmapOf is the idmapping IDMapEnv's value v names, if it names one.
func idmapOf(v string) (rootfs.IDMapping, bool) {
	f := strings.Split(v, ":")
	if len(f) != 4 {
		return rootfs.IDMapping{}, false
	}
	var ids [4]int
	for i, s := range f {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return rootfs.IDMapping{}, false
		}
		ids[i] = int(n)
	}
	return rootfs.IDMapping{OwnerUID: ids[0], OwnerGID: ids[1], UID: ids[2], GID: ids[3]}, true
}

// The descriptors the stage gets: its Config; a lifeline whose other end only agentrun holds,
// so the stage sees end-of-file when agentrun dies, even by SIGKILL; and, with filtered egress,
// the socket on which it sends agentrun the sandbox's TUN device.
const (
	ConfigFD   = 3
	LifelineFD = 4
	TunFD      = 5
)

// Rule is one Landlock rule: a path and the rights granted beneath it.
type Rule struct {
	Path   string
	Rights string // "r", "rw" or "x", optionally with "d" when Path is a directory
}

// Config is everything the stage needs, written by one function (Encode) and read by one
// (decode): never hand-built argv.
type Config struct {
	Path     string // the executable; Argv[0] is what the agent sees as its name
	Argv     []string
	Env      []string
	Dir      string
	TTY      bool
	Landlock []Rule
	// Direct is the Landlock + seccomp tier: no container, so the stage applies seccomp
	// itself, and cuts off TCP with Landlock when NoNetwork is set.
	Direct    bool
	NoNetwork bool
	// Seccomp is the filter the stage loads last, compiled by agentrun; nil for none.
	Seccomp *seccompprog.Program
	// Net, when the sandbox has filtered egress, asks the stage to create the TUN device.
	Net *Net
	// RequireLandlock makes the stage fail when the kernel cannot apply the ruleset, instead
	// of going on with the other layers (set unless --allow-degraded gave Landlock up).
	RequireLandlock bool
	// Audit is audit mode: no Landlock ruleset; the notifier outside records what it would
	// have denied.
	Audit bool
	// Sandbox, in the namespaced tiers, is the sandbox the stage builds around itself before
	// it starts the agent.
	Sandbox *Sandbox
}

// Sandbox is what the stage does in its new namespaces, in this order: build the root from
// Ops on a tmpfs at Base and pivot into it, name the host, bring up loopback, wait for agentrun
// to have put it in its cgroup, make the TUN device, drop to the agent's user and every
// capability, and confine itself with AppArmor, Landlock and seccomp.
type Sandbox struct {
	Base string // a host directory to build the root on (hidden by it)
	Ops  []rootfs.MountOp
	// SetUser switches to UID, GID and Groups (agentrun ran as root); rootless the stage
	// already is the user.
	SetUser bool
	UID     int
	GID     int
	Groups  []int
	// IDMap is the idmapping of the binds marked IDMap: when agentrun runs as root, the agent
	// runs as an unprivileged user, and the write roots show root's files as the agent's.
	IDMap *rootfs.IDMapping
	// UnshareCgroup enters a new cgroup namespace once in the run's cgroup (cgroup v1, where
	// the stage cannot be cloned into it).
	UnshareCgroup bool
	AppArmor      string
	Cols          uint16 // the terminal's size, with TTY
	Rows          uint16
}

// Net is the stage's part in filtered egress: the TUN device it creates in the sandbox's
// network namespace, and the addresses and routes it gives it.
type Net struct {
	Addr4 string // CIDR
	Addr6 string
	MTU   int
}

// Encode writes c for the stage (see appendConfig).
func Encode(w io.Writer, c *Config) error {
	if _, err := w.Write(appendConfig(nil, c)); err != nil {
		return fmt.Errorf("sending the stage its configuration: %w", err)
	}
	return nil
}

// decode reads what Encode wrote, all of r up to its end.
func decode(r io.Reader) (*Config, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxConfig+1))
	if err == nil && len(b) > maxConfig {
		err = fmt.Errorf("larger than %d bytes", maxConfig)
	}
	var c *Config
	if err == nil {
		c, err = parseConfig(b)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the stage configuration: %w", err)
	}
	if len(c.Argv) == 0 {
		return nil, fmt.Errorf("reading the stage configuration: no command")
	}
	return c, nil
}
