package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// agentrunBin is the agentrun binary the tests run, built once by TestMain exactly as
// scripts/install.sh builds it, its stage binary beside it.
var agentrunBin string

// TestMain builds agentrun into a directory every user can read, so tests can run it as root
// and as an unprivileged user.
func TestMain(m *testing.M) {
	maybeDenyUserNSJail()
	maybeServeFakeInternet()
	maybeServeProxy()
	dir, err := os.MkdirTemp("", "agentrun-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		if err := os.Chmod(dir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		agentrunBin = filepath.Join(dir, "agentrun")
		build := exec.Command("../scripts/build.sh", agentrunBin)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "building agentrun: %v\n", err)
			return 1
		}
		defer removeTestUser()
		defer removeAgentInstall()
		return m.Run()
	}()
	os.Exit(code)
}

// TestCLI runs testdata/script/*.txtar: each is a command-line session with its expected
// output and exit status, run against the built binary.
func TestCLI(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		// The testing package's, removed once every script has ended: testscript's own
		// (/tmp/go-test-script*) was left behind, empty, by each run.
		WorkdirRoot: t.TempDir(),
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Setup: func(env *testscript.Env) error {
			// Beside the work directory, not in it: a workspace around the home directory
			// is refused (it holds the user's start-up files).
			home := env.WorkDir + "-home"
			env.Defer(func() { os.RemoveAll(home) })
			env.Setenv("HOME", home)
			env.Setenv("XDG_CONFIG_HOME", home+"/.config")
			env.Setenv("TMPDIR", env.WorkDir+"/tmp")
			env.Setenv("PATH", filepath.Dir(agentrunBin)+string(os.PathListSeparator)+env.Getenv("PATH"))
			return os.MkdirAll(home, 0o755)
		},
	})
}
