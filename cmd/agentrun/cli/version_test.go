package cli

import (
	"strings"
	"testing"
)

// The flag users try first prints what the subcommand prints, and runs nothing.
func TestVersionFlag(t *testing.T) {
	_, want, _ := runMain(t, "version")
	if !strings.HasPrefix(want, "agentrun "+Version+"\n") || !strings.Contains(want, "\ngo go") {
		t.Fatalf("agentrun version printed %q", want)
	}
	for _, args := range [][]string{{"--version"}, {"-v"}, {"--version", "--", "false"}} {
		code, out, errOut := runMain(t, args...)
		if code != 0 || out != want || errOut != "" {
			t.Errorf("agentrun %s: exit %d, stdout %q, stderr %q; want 0, %q, nothing", strings.Join(args, " "), code, out, errOut, want)
		}
	}
}

// A command that takes no arguments refuses them and does nothing: `agentrun doctor claude`
// must not seem to have checked claude, nor `agentrun setup x` change the host.
func TestCommandsRefuseArguments(t *testing.T) {
	for _, name := range []string{"version", "doctor", "setup", "log", "alias"} {
		code, out, errOut := runMain(t, name, "claude")
		if code != 125 || out != "" || !strings.Contains(errOut, "agentrun "+name+` takes no arguments (got "claude")`) {
			t.Errorf("agentrun %s claude: exit %d, stdout %q, stderr %q; want 125, nothing, that it takes no arguments", name, code, out, errOut)
		}
	}
}
