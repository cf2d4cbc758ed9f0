package integration

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/agentrun/agentrun/cmd/agentrun/cli"
)

// TestMain lets the test binary act as the agentrun command inside scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"agentrun": func() { os.Exit(cli.Main(os.Args, os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestCLI runs testdata/script/*.txtar: each is a command-line session with its expected
// output and exit status.
func TestCLI(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			home := env.WorkDir + "/home"
			env.Setenv("HOME", home)
			env.Setenv("XDG_CONFIG_HOME", home+"/.config")
			env.Setenv("TMPDIR", env.WorkDir+"/tmp")
			return os.MkdirAll(home, 0o755)
		},
	})
}
