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
