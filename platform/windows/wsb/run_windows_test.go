package wsb

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/windows/wintest"
	"github.com/agentrun/agentrun/profiles"
)

// TestRunInSandbox runs a real agent in Windows Sandbox: it writes in its mapped workspace
// (allowed: the file is on the host afterwards), cannot see a host file outside every mapped
// folder (forbidden: it would exit 9), and its exit status comes back through the run
// folder. It needs Windows Sandbox enabled, which GitHub's windows-latest runners cannot do:
// they have no nested virtualization, so there it skips.
func TestRunInSandbox(t *testing.T) {
	wintest.RequireWindows(t)
	b := &Backend{RunDir: t.TempDir(), CloseOnExit: true}
	if err := b.Probe(); err != nil {
		t.Skipf("Windows Sandbox is not usable here: %v", err)
	}
	if h := probe(true); h.Feature != "" && h.Feature != "Enabled" {
		t.Skipf("the feature %s is %s", FeatureName, h.Feature)
	}
	ws := t.TempDir()
	secretDir := t.TempDir()
	secret := filepath.Join(secretDir, "secret.txt")
	if err := os.WriteFile(secret, []byte("host only"), 0o600); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(secret+ws, " &()^") {
		t.Skipf("a temporary path with a space or a cmd.exe character: %s", secret)
	}
	pol := &profiles.Policy{Name: "test", Mode: profiles.ModeEnforce, Filesystem: profiles.FilesystemPolicy{
		Write: []profiles.PathRule{{Path: ws, Pattern: "$WORKSPACE"}},
	}}
	var stderr strings.Builder
	spec := &platform.Spec{
		Policy:  pol,
		Command: []string{"cmd.exe", "/d", "/c", "if exist " + secret + " (exit 9) else (echo written>out.txt& exit 7)"},
		Dir:     ws,
		Stdout:  os.Stdout,
		Stderr:  &stderr,
		Outcome: &platform.Outcome{},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	code, err := b.Run(ctx, spec)
	if err != nil {
		t.Fatalf("Run: %v\nstderr:\n%s", err, stderr.String())
	}
	if code == 9 {
		t.Fatalf("the sandbox saw the host's %s, outside every mapped folder", secret)
	}
	if code != 7 {
		t.Errorf("exit status %d, want 7\nstderr:\n%s", code, stderr.String())
	}
	out, err := os.ReadFile(filepath.Join(ws, "out.txt"))
	if err != nil || !strings.Contains(string(out), "written") {
		t.Errorf("the write in the mapped workspace: %q, %v", out, err)
	}
	if spec.Outcome.Tier != TierWSB {
		t.Errorf("tier %q", spec.Outcome.Tier)
	}
	if entries, _ := os.ReadDir(b.RunDir); len(entries) != 0 {
		t.Errorf("the run left %d entries in the run directory", len(entries))
	}
}
