package apparmor

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSelfProfileParses: the profile agentrun setup installs is accepted by apparmor_parser
// where the parser knows AppArmor 4's userns rule; Debian 12's 3.0 parser does not, and the
// test says so rather than pretending.
func TestSelfProfile(t *testing.T) {
	text := selfProfile("/usr/local/bin/agent run")
	for _, want := range []string{`profile agentrun "/usr/local/bin/agent run" flags=(unconfined) {`, "  userns,", "abi <abi/4.0>,"} {
		if !strings.Contains(text, want) {
			t.Errorf("the setup profile lacks %q:\n%s", want, text)
		}
	}
	parser, err := exec.LookPath("apparmor_parser")
	if err != nil {
		t.Skip("apparmor_parser is not installed")
	}
	out, _ := exec.Command(parser, "--version").CombinedOutput()
	if !strings.Contains(string(out), "version 4") {
		t.Skipf("apparmor_parser %s predates the userns rule (AppArmor 4)", strings.SplitN(string(out), "\n", 2)[0])
	}
	p := filepath.Join(t.TempDir(), "agentrun")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(parser, "-Q", "-K", p).CombinedOutput(); err != nil {
		t.Errorf("apparmor_parser rejects the setup profile: %v: %s", err, out)
	}
}
