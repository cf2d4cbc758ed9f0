package integration

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestPortableBuildsStayPortable checks that the macOS and Windows builds of agentrun do not
// pull in the Linux-only container and kernel libraries.
func TestPortableBuildsStayPortable(t *testing.T) {
	for _, goos := range []string{"darwin", "windows"} {
		cmd := exec.Command("go", "list", "-deps", "../cmd/agentrun")
		cmd.Env = append(os.Environ(), "GOOS="+goos, "CGO_ENABLED=0")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list for %s: %v", goos, err)
		}
		for _, banned := range []string{"github.com/opencontainers/runc", "github.com/landlock-lsm", "github.com/seccomp", "gvisor.dev"} {
			if strings.Contains(string(out), banned) {
				t.Errorf("the %s build depends on %s", goos, banned)
			}
		}
	}
}

// TestFrontEndKnowsNoBackend checks that the command line and the launcher reach the sandbox
// only through platform.Backend: neither depends on a platform/linux package (main chooses
// the backend and passes it in).
func TestFrontEndKnowsNoBackend(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "seccomp", "../cmd/agentrun/cli", "../launcher").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.Contains(p, "/platform/linux") {
			t.Errorf("cmd/agentrun/cli or launcher depends on %s; use the platform.Backend main passes in", p)
		}
	}
}

// TestNoContainerRuntime checks that agentrun builds its sandbox itself: neither
// libcontainer's container lifecycle (its root package, runc init's nsenter) nor anything that
// only serves it is linked in; its AppArmor and configuration packages may be.
func TestNoContainerRuntime(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "seccomp", "../cmd/agentrun").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	// The filter is compiled with libseccomp as libcontainer converts it (seccompfilter.Compile,
	// checked against libcontainer's loaded program by its tests): libcontainer's seccomp
	// package is a test's oracle, not agentrun's.
	allowed := map[string]bool{
		"github.com/opencontainers/runc/libcontainer/configs":  true,
		"github.com/opencontainers/runc/libcontainer/apparmor": true,
		"github.com/opencontainers/runc/internal/linux":        true, // used by apparmor
		"github.com/opencontainers/runc/internal/pathrs":       true, // used by apparmor
	}
	found := false
	for _, p := range strings.Fields(string(out)) {
		if !strings.HasPrefix(p, "github.com/opencontainers/runc/") {
			continue
		}
		if p == "github.com/opencontainers/runc/libcontainer/apparmor" {
			found = true
		}
		if !allowed[p] {
			t.Errorf("cmd/agentrun links %s: only libcontainer's AppArmor and configuration packages belong in agentrun", p)
		}
	}
	if !found {
		t.Error("go list shows no libcontainer/apparmor: the check would prove nothing")
	}
}
