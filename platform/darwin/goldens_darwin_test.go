//go:build darwin

package darwin

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoldensLoad loads every golden SBPL profile of platform/darwin/sbpl with the real
// sandbox-exec, with the parameters its .params golden holds (NAME=VALUE lines), and runs
// /usr/bin/true under it.
func TestGoldensLoad(t *testing.T) {
	goldens, _ := filepath.Glob(filepath.Join("sbpl", "testdata", "*.sb.golden"))
	if len(goldens) == 0 {
		t.Fatal("no golden profiles in platform/darwin/sbpl/testdata")
	}
	for _, g := range goldens {
		name := strings.TrimSuffix(filepath.Base(g), ".sb.golden")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(strings.TrimSuffix(g, ".sb.golden") + ".params.golden")
			if err != nil {
				t.Fatal(err)
			}
			var params []Param
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				k, v, ok := strings.Cut(line, "=")
				if !ok {
					t.Fatalf("%s: not NAME=VALUE: %q", name, line)
				}
				params = append(params, Param{Name: k, Value: v})
			}
			argv, err := sandboxArgv(g, params, "/usr/bin/true", nil)
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
