package integration

import (
	"os"
	"os/exec"
	"testing"
)

// TestKubernetesCompileGolden checks that the built binary, with the Linux backend's own
// seccomp and AppArmor compilers, writes for claude exactly the objects the golden file of
// platform/kubernetes holds, which that package's tests decode strictly and check against
// the CRD schemas.
func TestKubernetesCompileGolden(t *testing.T) {
	want, err := os.ReadFile("../platform/kubernetes/testdata/claude.k8s.yaml.golden")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(agentrunBin, "compile", "--target", "kubernetes", "--image", "registry.example/agents:1",
		"--namespace", "agents", "claude", "--", "agent", "--task", "fix the tests")
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir()) // built-in profiles only
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, err.(*exec.ExitError).Stderr)
	}
	if string(got) != string(want) {
		t.Errorf("agentrun compile --target kubernetes claude differs from platform/kubernetes/testdata/claude.k8s.yaml.golden (run go test ./platform/kubernetes -update, review the diff)\n%s", got)
	}
}
