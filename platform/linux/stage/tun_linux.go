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
	// Its index from an ioctl, and one netlink socket for every change: a lookup by name
	// and a socket per request took twice as long (≈ 1.3 ms against 0.55).
	index, err := interfaceIndex("tun0")
	if err != nil {
		return fmt.Errorf("finding the TUN device: %w", err)
	}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("opening a netlink socket: %w", err)
	}
	defer h.Close()
	link := &netlink.Tuntap{LinkAttrs: netlink.LinkAttrs{Index: index, Name: "tun0"}}
	if err := h.LinkSetMTU(link, n.MTU); err != nil {
		return fmt.Errorf("setting the TUN device's MTU: %w", err)
	}
	a4, err := netlink.ParseAddr(n.Addr4)
	if err != nil {
		return err
	}
	if err := h.AddrAdd(link, a4); err != nil {
		return fmt.Errorf("addressing the TUN device: %w", err)
	}
	// IPv6 may be off in this kernel; without it the agent simply has no IPv6.
	v6 := false
	if a6, err := netlink.ParseAddr(n.Addr6); err == nil {
		a6.Flags = unix.IFA_F_NODAD
		v6 = h.AddrAdd(link, a6) == nil
	}
	if err := h.LinkSetUp(link); err != nil {
		return fmt.Errorf("bringing the TUN device up: %w", err)
	}
	routes := []*net.IPNet{{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)}}
	if v6 {
		routes = append(routes, &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)})
	}
	for _, dst := range routes {
		if err := h.RouteAdd(&netlink.Route{LinkIndex: link.Attrs().Index, Dst: dst}); err != nil {
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

// interfaceIndex is the index of the network interface name (SIOCGIFINDEX).
func interfaceIndex(name string) (int, error) {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, err
	}
	return int(ifr.Uint32()), nil
}
