package netstack

import (
	"fmt"

	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
)

// AttachTUN gives a prepared stack its interface on a TUN device (opened without packet
// information).
func (st *Stack) AttachTUN(fd int, mtu uint32) error {
	ep, err := fdbased.New(&fdbased.Options{
		FDs:               []int{fd},
		MTU:               mtu,
		RXChecksumOffload: true,
	})
	if err != nil {
		return fmt.Errorf("serving the sandbox's TUN device: %w", err)
	}
	return st.Attach(ep)
}
