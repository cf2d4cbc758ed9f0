package apparmor

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// appArmorDir is where persistent AppArmor profiles live.
const appArmorDir = "/etc/apparmor.d"

// usernsRestricted reports whether AppArmor keeps unprivileged programs from creating user
// namespaces unless their profile allows it (Ubuntu 24.04+).
func usernsRestricted() bool {
	b, err := os.ReadFile("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")
	return err == nil && strings.TrimSpace(string(b)) == "1"
}

// selfProfile is the AppArmor profile that lets the agentrun binary at self create user
// namespaces where AppArmor restricts them, as Ubuntu 24.04 ships for other sandboxes
// (bwrap, chrome). It confines nothing else: agentrun's own sandboxes do.
func selfProfile(self string) string {
	return fmt.Sprintf(`# Installed by agentrun setup: lets agentrun create the user namespaces of its sandboxes on
# hosts where AppArmor restricts them (kernel.apparmor_restrict_unprivileged_userns=1).
abi <abi/4.0>,
include <tunables/global>

profile agentrun %s flags=(unconfined) {
  userns,

  include if exists <local/agentrun>
}
`, quoteAppArmorPath(self))
}

func quoteAppArmorPath(p string) string {
	if strings.ContainsAny(p, " \t") {
		return `"` + p + `"`
	}
	return p
}

// Setup installs, on a host whose AppArmor restricts user namespaces, the
// persistent profile that lets agentrun (the binary at self) create them, and loads it.
// enabled says whether the kernel has AppArmor, root whether this process may install the
// profile. It returns what it did, for people.
func Setup(self string, enabled, root bool) ([]string, error) {
	if !enabled {
		return []string{"AppArmor is not enabled in this kernel: nothing to install"}, nil
	}
	if !usernsRestricted() {
		return []string{"AppArmor does not restrict user namespaces here: agentrun needs no profile of its own"}, nil
	}
	if !root {
		return nil, fmt.Errorf("installing %s needs root: sudo agentrun setup", filepath.Join(appArmorDir, "agentrun"))
	}
	real, err := filepath.EvalSymlinks(self)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(appArmorDir, "agentrun")
	if err := os.WriteFile(path, []byte(selfProfile(real)), 0o644); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	if out, err := exec.Command("apparmor_parser", "--replace", path).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("loading %s: %v: %s", path, err, strings.TrimSpace(string(out)))
	}
	return []string{"installed and loaded " + path + ": " + real + " may create user namespaces (rootless sandboxes)"}, nil
}
