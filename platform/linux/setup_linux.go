package linux

import (
	"github.com/agentrun/agentrun/platform/linux/apparmor"

	"github.com/agentrun/agentrun/profiles"
)

// SetupAppArmor prepares the host once (agentrun setup): see apparmor.Setup.
func SetupAppArmor(self string) ([]string, error) {
	h := ProbeHost()
	return apparmor.Setup(self, h.AppArmor, h.Root)
}

// CompileAppArmor writes the AppArmor profile the policy becomes: see apparmor.Compile.
func CompileAppArmor(pol *profiles.Policy) ([]byte, error) { return apparmor.Compile(pol) }
