package linux

import (
	"fmt"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/netfilter"
	"github.com/agentrun/agentrun/netfilter/netstack"
	"github.com/agentrun/agentrun/netfilter/resolver"
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/linux/stage"
	"github.com/agentrun/agentrun/profiles"
)

// egressLink receives the sandbox's TUN device from the stage and serves it with the
// userspace network stack.
type egressLink struct {
	ours, child *os.File
	stack       *netstack.Stack
}

func newEgressLink() (*egressLink, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("creating the TUN socket: %w", err)
	}
	return &egressLink{ours: os.NewFile(uintptr(fds[0]), "tun-ours"), child: os.NewFile(uintptr(fds[1]), "tun-child")}, nil
}

// serve prepares the userspace network stack, waits for the TUN device and gives the stack
// its interface on it: the stage makes the device once it has built the root, so everything
// that does not need the device is done in the meantime, not after it came.
func (e *egressLink) serve(pol *profiles.Policy, spec *platform.Spec) error {
	e.child.Close()
	upstream, err := resolver.HostUpstream()
	if err != nil {
		return err
	}
	policy := netfilter.NewPolicy(pol.Network, netfilter.HostAddrs())
	if pol.Mode == profiles.ModeAudit {
		policy = policy.Audit()
	}
	bindings := netfilter.NewBindings()
	e.stack = netstack.Prepare(netstack.Config{
		Policy:   policy,
		Bindings: bindings,
		Resolver: &resolver.Server{Policy: policy, Bindings: bindings, Upstream: upstream, Events: spec.Events},
		Events:   spec.Events,
		Gateways: []netip.Addr{netfilter.Gateway4, netfilter.Gateway6},
	})
	tun, err := recvTUN(e.ours)
	if err != nil {
		return fmt.Errorf("receiving the sandbox's TUN device (the stage failed to set up the network): %w", err)
	}
	fd, err := unix.Dup(int(tun.Fd()))
	tun.Close()
	if err != nil {
		return err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return err
	}
	if err := e.stack.AttachTUN(fd, uint32(netfilter.MTU)); err != nil {
		unix.Close(fd)
		return err
	}
	return nil
}

// Close stops the stack (which closes the TUN device) and the socket.
func (e *egressLink) Close() {
	if e.stack != nil {
		e.stack.Close()
	}
	e.ours.Close()
	e.child.Close()
}

// recvTUN receives the TUN device the stage sends (named by the message).
func recvTUN(sock *os.File) (*os.File, error) {
	name, fds, err := stage.RecvRights(sock, 64, 1)
	if err != nil {
		return nil, err
	}
	if len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("expected one file descriptor, got %d", len(fds))
	}
	return os.NewFile(uintptr(fds[0]), string(name)), nil
}
