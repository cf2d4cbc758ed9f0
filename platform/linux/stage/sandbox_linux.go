package stage

import (
	"fmt"
	"os"

	"github.com/creack/pty"
	"github.com/opencontainers/runc/libcontainer/apparmor"
	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/rootfs"
)

// setupSandbox is the stage's work in its new namespaces, up to the point where it confines
// itself: the root, the host name, loopback, the cgroup, the TUN device, the terminal, the
// AppArmor profile for the agent, and then no privileges; pending, the idmapping's user
// namespace started before the configuration was read, goes to the root's build. It returns the terminal's agent end when the agent gets one.
func setupSandbox(cfg *Config, pending *rootfs.Pending) (tty *os.File, master *os.File, err error) {
	s := cfg.Sandbox
	if err := rootfs.Build(s.Base, s.Ops, s.IDMap, pending); err != nil {
		return nil, nil, err
	}
	if err := rootfs.PivotInto(s.Base); err != nil {
		return nil, nil, err
	}
	if err := unix.Sethostname([]byte("agentrun")); err != nil {
		return nil, nil, fmt.Errorf("naming the sandbox's host: %w", err)
	}
	if err := loopbackUp(); err != nil {
		return nil, nil, err
	}
	// agentrun answers once the stage is in the run's cgroup (cgroup v1 moves it there now).
	var b [1]byte
	if n, err := unix.Read(LifelineFD, b[:]); n != 1 || err != nil {
		return nil, nil, fmt.Errorf("agentrun went away while the sandbox was being built")
	}
	if s.UnshareCgroup {
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return nil, nil, fmt.Errorf("entering a new cgroup namespace: %w", err)
		}
	}
	if cfg.Net != nil {
		if err := setupTUN(cfg.Net); err != nil {
			return nil, nil, fmt.Errorf("setting up the sandbox's network: %w", err)
		}
	}
	// No core dumps full of secrets.
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return nil, nil, fmt.Errorf("turning off core dumps: %w", err)
	}
	if cfg.TTY {
		if master, tty, err = openTerminal(s); err != nil {
			return nil, nil, err
		}
		if err := leadSession(tty); err != nil {
			return nil, nil, err
		}
	}
	if s.AppArmor != "" {
		// Applies at the agent's execve (the fork inherits it); before no_new_privs, which
		// limits the transitions a confined task may ask for.
		if err := apparmor.ApplyProfile(s.AppArmor); err != nil {
			return nil, nil, fmt.Errorf("applying the AppArmor profile %s: %w", s.AppArmor, err)
		}
	}
	if err := dropPrivileges(s); err != nil {
		return nil, nil, err
	}
	return tty, master, nil
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

// openTerminal makes the agent's terminal in the sandbox's own devpts, so that it is
// /dev/pts/N inside, owned by the agent's user, of the host terminal's size.
func openTerminal(s *Sandbox) (master, tty *os.File, err error) {
	master, tty, err = pty.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("opening the agent's terminal: %w", err)
	}
	if s.SetUser {
		if err := tty.Chown(s.UID, s.GID); err != nil {
			return nil, nil, fmt.Errorf("giving the agent its terminal: %w", err)
		}
	}
	if s.Cols > 0 && s.Rows > 0 {
		_ = pty.Setsize(master, &pty.Winsize{Cols: s.Cols, Rows: s.Rows})
	}
	return master, tty, nil
}
