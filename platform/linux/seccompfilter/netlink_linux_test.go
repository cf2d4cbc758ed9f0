package seccompfilter

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// TestNetlinkProtocolsTheKernelRefuses is the premise of the filter's netlink rules, which
// test the protocol's five low bits only: the kernel itself refuses every protocol outside 0
// to 31, the values whose five low bits are all clear among them (32, 64, a negative int, a
// value whose upper half alone is set reads as 0, the routing protocol the filter allows).
// Unconfined: this is the kernel's answer, not the filter's.
func TestNetlinkProtocolsTheKernelRefuses(t *testing.T) {
	for _, proto := range []int{32, 64, 96, 1 << 20, -32, -1 << 31} {
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto)
		if err == nil {
			unix.Close(fd)
			t.Errorf("socket(AF_NETLINK, SOCK_RAW, %d) succeeded: the filter would let it through", proto)
		} else if !errors.Is(err, unix.EPROTONOSUPPORT) {
			t.Errorf("socket(AF_NETLINK, SOCK_RAW, %d): %v, want EPROTONOSUPPORT", proto, err)
		}
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatalf("socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE): %v", err)
	}
	unix.Close(fd)
}
