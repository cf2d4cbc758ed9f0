package linux

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/linux/rootfs"
	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/userdirs"
)

// When agentrun runs as root for root (no sudo: CI containers, devcontainers, cloud VMs), the
// agent is not root inside: it runs as agentUID, which no host user has, so that every file
// only root may read stays unreadable to it by plain permissions, not by lists. The binds it
// writes through (the write roots, what is protected in them) and the home's named paths are
// idmapped: root's files there are the agent's in the sandbox, and what it creates there
// belongs to root on the host.
const (
	// agentUID is in the range systemd leaves unused (0x70000000–0x7ffeffff: above its
	// container range, below its foreign-image range).
	agentUID  = 0x70010000
	agentName = "agent"
	// asRootEnv, set to 1, keeps the agent root (agentrun --as-root sets it): it then reads
	// every file root may read.
	asRootEnv = "AGENTRUN_AS_ROOT"
)

// agentUnprivileged reports whether a run on this host, by this process, puts the agent in
// agentUID: agentrun is root, acting for root, and AGENTRUN_AS_ROOT is not 1. Audit mode too:
// an agent behaves as it will in enforce mode only as the same user (Claude Code refuses
// --dangerously-skip-permissions as root; root's files read and written as root's are not
// what enforce mode lets it do), and audit mode's home and write roots are idmapped as
// enforce's are (fsplan.Audit).
func agentUnprivileged(h Host) bool {
	return h.Root && userdirs.Current().UID == 0 && os.Getenv(asRootEnv) != "1"
}

// predictedIDMap is the idmapping a run of this host's is expected to need, before its profile
// is resolved: where the agent runs as agentUID, the run's user (the invoker's ids) shown as
// the agent (see sandboxRun.setup); nil otherwise. The stage starts making it as it starts,
// and uses it only where the run's configuration names the same.
func predictedIDMap(h Host) *rootfs.IDMapping {
	if !agentUnprivileged(h) {
		return nil
	}
	inv := userdirs.Current()
	return &rootfs.IDMapping{OwnerUID: inv.UID, OwnerGID: inv.GID, UID: agentUID, GID: agentUID}
}

// agentUser is the identity the agent gets in place of root, and the user database the
// sandbox shows it with (the host's, plus a line for it).
type agentUser struct {
	Passwd, Group string
}

// newAgentUser makes the agent's user database for a run whose agent has HOME home: the
// host's /etc/passwd and /etc/group, each with a line for agentUID (none when pol hides
// /etc/passwd). It fails when the host already has that uid or gid.
func newAgentUser(home string, pol *profiles.Policy) (*agentUser, error) {
	if !pol.CheckFile("/etc/passwd", profiles.AccessRead).Allow {
		return &agentUser{}, nil
	}
	passwd, err := readUserDB("/etc/passwd")
	if err != nil {
		return nil, err
	}
	group, err := readUserDB("/etc/group")
	if err != nil {
		return nil, err
	}
	id := strconv.Itoa(agentUID)
	shell := "/bin/sh"
	for _, line := range strings.Split(passwd, "\n") {
		f := strings.Split(line, ":")
		if len(f) < 7 {
			continue
		}
		if f[2] == id {
			return nil, agentUIDTaken("user", f[0])
		}
		if f[2] == "0" && f[6] != "" {
			shell = f[6]
		}
	}
	for _, line := range strings.Split(group, "\n") {
		if f := strings.Split(line, ":"); len(f) >= 3 && f[2] == id {
			return nil, agentUIDTaken("group", f[0])
		}
	}
	if strings.ContainsAny(home, ":\n") {
		home = "/"
	}
	return &agentUser{
		Passwd: withLine(passwd, fmt.Sprintf("%s:x:%d:%d:agentrun sandbox:%s:%s", agentName, agentUID, agentUID, home, shell)),
		Group:  withLine(group, fmt.Sprintf("%s:x:%d:", agentName, agentUID)),
	}, nil
}

func agentUIDTaken(what, name string) error {
	return &platform.LayerError{Layer: LayerAgentUser.String(), Enforces: agentUserText(),
		Fix: fmt.Sprintf("id %d, which agentrun gives the agent, is the host's %s %s: remove that %s, or run agentrun as another user (sudo -u USER agentrun …)", agentUID, what, name, what)}
}

// readUserDB reads a user or group file of at most 4 MiB.
func readUserDB(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("reading %s for the agent's user database: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4<<20))
	if err != nil {
		return "", fmt.Errorf("reading %s for the agent's user database: %w", path, err)
	}
	return string(b), nil
}

func withLine(db, line string) string {
	if db != "" && !strings.HasSuffix(db, "\n") {
		db += "\n"
	}
	return db + line + "\n"
}

// agentUserText is what the agent user layer enforces, for doctor and --dry-run.
func agentUserText() string {
	return fmt.Sprintf("the agent runs as uid %d (%s), not root: files only root may read stay unreadable; the write roots and the home's named paths are idmapped, so root's files there are the agent's and what it writes belongs to root (where a file system cannot be idmapped, ACL entries grant the agent's uid those trees for the run); --as-root or %s=1 keeps it root", agentUID, agentName, asRootEnv)
}

// agentIDMap says which of the plan's binds the agent user sees through the idmapping: every
// one it may write through (write roots, pins, what is protected in them) and every one in
// the home directory; the system's read-only trees keep their owners, root's private files
// among them.
func agentIDMap(write bool, path, home string) bool {
	return write || home != "" && home != "/" && profiles.Within(path, home)
}

// setAgentEnv names the agent user in env: USER and LOGNAME, where they are set.
func setAgentEnv(env []string) []string {
	out := make([]string, len(env))
	for i, kv := range env {
		switch {
		case strings.HasPrefix(kv, "USER="):
			kv = "USER=" + agentName
		case strings.HasPrefix(kv, "LOGNAME="):
			kv = "LOGNAME=" + agentName
		}
		out[i] = kv
	}
	return out
}

// envValue is the value of key in env, "" when unset.
func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return ""
}

// agentUserLayer says who the agent runs as on host h.
func agentUserLayer(h Host) Layer {
	l := Layer{ID: LayerAgentUser, Needed: agentUnprivileged(h), Available: true}
	inv := userdirs.Current()
	switch {
	case l.Needed:
		l.Enforces = agentUserText()
	case !h.Root:
		l.Enforces = fmt.Sprintf("the agent runs as you (uid %d), in a user namespace that maps only you", inv.UID)
	case inv.Sudo:
		l.Enforces = fmt.Sprintf("the agent runs as %s (uid %d), who ran sudo", inv.Name, inv.UID)
	default:
		l.Enforces = fmt.Sprintf("%s=1: the agent runs as root without capabilities and reads every file root may read", asRootEnv)
	}
	return l
}
