package linux

import (
	"fmt"

	"github.com/agentrun/agentrun/netfilter"
	"github.com/agentrun/agentrun/platform/linux/stage"
)

// newNetConfig is the stage's part in filtered egress.
func newNetConfig() *stage.Net {
	return &stage.Net{Addr4: netfilter.SandboxPrefix4.String(), Addr6: netfilter.SandboxPrefix6.String(), MTU: netfilter.MTU}
}

// resolvConf is the sandbox's resolv.conf, which names the gateway.
func resolvConf() string {
	return fmt.Sprintf("# agentrun: DNS is answered by the sandbox's resolver\nnameserver %s\nnameserver %s\n", netfilter.Gateway4, netfilter.Gateway6)
}
