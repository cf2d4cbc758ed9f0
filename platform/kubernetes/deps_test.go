package kubernetes

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOfficialTypesInTestsOnly checks that agentrun builds its Kubernetes objects from this
// package's own types: the official ones (k8s.io/api, several MB in the binary) and the
// schema validator serve the tests only.
func TestOfficialTypesInTestsOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "seccomp", "../../cmd/agentrun").Output()
	if err != nil {
		t.Skipf("go list: %v (the go command is needed for this check)", err)
	}
	deps := strings.Fields(string(out))
	var linked bool
	for _, p := range deps {
		if p == "github.com/agentrun/agentrun/platform/kubernetes" {
			linked = true
		}
		for _, banned := range []string{"k8s.io/", "sigs.k8s.io/", "github.com/santhosh-tekuri/jsonschema"} {
			if strings.HasPrefix(p, banned) {
				t.Errorf("cmd/agentrun links %s, which only the tests may use", p)
			}
		}
	}
	if !linked {
		t.Error("cmd/agentrun does not link platform/kubernetes: the check would prove nothing")
	}
}
