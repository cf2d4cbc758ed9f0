package stage

import (
	"fmt"
	"net"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// setupTUN creates tun0 with the sandbox's addresses and default routes, and sends its
// descriptor to agentrun, which serves it.
func setupTUN(n *Net) error {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening /dev/net/tun: %w", err)
	}
	tun := os.NewFile(uintptr(fd), "tun0")
	defer tun.Close()
	ifr, err := unix.NewIfreq("tun0")
	if err != nil {
		return err
	}
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		return fmt.Errorf("creating the TUN device: %w", err)
	}
	// Persistent: closing the last descriptor (agentrun's, at the end of the run) then only
	// detaches it, and the device goes with the sandbox's network namespace, in the kernel's
	// own time. Without it, that close unregisters the device and waits for RCU grace
	// periods (≈ 20 ms here) while agentrun exits.
	if err := unix.IoctlSetInt(fd, unix.TUNSETPERSIST, 1); err != nil {
		return fmt.Errorf("making the TUN device persistent: %w", err)
	}
	link, err := netlink.LinkByName("tun0")
	if err != nil {
		return fmt.Errorf("finding the TUN device: %w", err)
	}
	if err := netlink.LinkSetMTU(link, n.MTU); err != nil {
		return fmt.Errorf("setting the TUN device's MTU: %w", err)
	}
	a4, err := netlink.ParseAddr(n.Addr4)
	if err != nil {
		return err
	}
	if err := netlink.AddrAdd(link, a4); err != nil {
		return fmt.Errorf("addressing the TUN device: %w", err)
	}
	// IPv6 may be off in this kernel; without it the agent simply has no IPv6.
	v6 := false
	if a6, err := netlink.ParseAddr(n.Addr6); err == nil {
		a6.Flags = unix.IFA_F_NODAD
		v6 = netlink.AddrAdd(link, a6) == nil
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("bringing the TUN device up: %w", err)
	}
	routes := []*net.IPNet{{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)}}
	if v6 {
		routes = append(routes, &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)})
	}
	for _, dst := range routes {
		if err := netlink.RouteAdd(&netlink.Route{LinkIndex: link.Attrs().Index, Dst: dst}); err != nil {
			return fmt.Errorf("routing through the TUN device: %w", err)
		}
	}
	sock := os.NewFile(TunFD, "tun-socket")
	defer sock.Close()
	if err := unix.Sendmsg(int(sock.Fd()), []byte("tun0"), unix.UnixRights(fd), nil, 0); err != nil {
		return fmt.Errorf("handing the TUN device to agentrun: %w", err)
	}
	return nil
}
