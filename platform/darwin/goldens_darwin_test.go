//go:build darwin

package darwin

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/profiles/profilestest"
)

// TestGoldensLoad loads every golden SBPL profile of platform/darwin/sbpl with the real
// sandbox-exec and runs /usr/bin/true under it, with the parameters the compiler passes for
// the same built-in profile.
func TestGoldensLoad(t *testing.T) {
	goldens, _ := filepath.Glob(filepath.Join("sbpl", "testdata", "*.sb.golden"))
	if len(goldens) == 0 {
		t.Skip("no golden profiles in platform/darwin/sbpl/testdata (the SBPL compiler is not in this tree)")
	}
	builtins := profilestest.Builtins(t, profilestest.Env)
	for _, g := range goldens {
		name := strings.TrimSuffix(filepath.Base(g), ".sb.golden")
		t.Run(name, func(t *testing.T) {
			pol, ok := builtins[name]
			if !ok {
				t.Fatalf("%s is the golden of no built-in profile", g)
			}
			prof, err := compileSBPL(pol, compileOptions{Tag: "agentrun-golden", ProxyPorts: []int{19999}})
			if err != nil {
				t.Skipf("the SBPL compiler is not in this build: %v", err)
			}
			argv, err := sandboxArgv(g, prof.Params, "/usr/bin/true", nil)
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
			if err != nil {
				t.Errorf("sandbox-exec %s: %v\n%s", g, err, out)
			}
		})
	}
}

func TestSandboxExecPresent(t *testing.T) {
	if _, err := os.Stat(SandboxExec); err != nil {
		t.Fatalf("%v: every macOS has it", err)
	}
	if !launchHost().SandboxExec {
		t.Error("launchHost does not see sandbox-exec")
	}
}
