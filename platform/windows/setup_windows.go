package windows

import (
	"fmt"
	"strings"

	"golang.org/x/sys/windows"
)

// Setup exempts the built-in profiles' containers from loopback isolation, so that their
// agents reach agentrun's proxy; it needs an administrator. A profile of the user's own is
// exempted by its first run from an administrator prompt.
func (b *Backend) Setup() ([]string, error) {
	if !windows.GetCurrentProcessToken().IsElevated() {
		return nil, fmt.Errorf("agentrun setup changes the loopback exemptions, which needs an administrator: run it from an administrator prompt (or, per container: CheckNetIsolation.exe LoopbackExempt -a -n=agentrun.PROFILE)")
	}
	names := builtinContainers()
	added, err := exemptFromLoopback(names)
	if err != nil {
		return nil, err
	}
	if len(added) == 0 {
		return []string{fmt.Sprintf("windows: the %d built-in profiles' containers were already exempt from loopback isolation", len(names))}, nil
	}
	return []string{
		"windows: exempted from loopback isolation, so that their agents reach agentrun's proxy: " + strings.Join(added, ", "),
		"windows: a profile of your own is exempted by its first run with network from an administrator prompt",
	}, nil
}
