package netstack

import (
	"fmt"

	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
)

// NewTUN serves a TUN device (opened without packet information) with a Stack.
func NewTUN(fd int, mtu uint32, cfg Config) (*Stack, error) {
	ep, err := fdbased.New(&fdbased.Options{
		FDs:               []int{fd},
		MTU:               mtu,
		RXChecksumOffload: true,
	})
	if err != nil {
		return nil, fmt.Errorf("serving the sandbox's TUN device: %w", err)
	}
	return New(ep, cfg)
}
