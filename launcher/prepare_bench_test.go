package launcher

import "testing"

// BenchmarkPrepareBase is agentrun's part of a launch before the sandbox: the catalog, the
// base profile parsed, checked and resolved for a workspace.
func BenchmarkPrepareBase(b *testing.B) { benchmarkPrepare(b, "base") }

// BenchmarkPrepareClaude is the headline's: claude's profile extends others.
func BenchmarkPrepareClaude(b *testing.B) { benchmarkPrepare(b, "claude") }

func benchmarkPrepare(b *testing.B, profile string) {
	ws := b.TempDir()
	for b.Loop() {
		cat, err := LoadCatalog()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Prepare(cat, Request{Command: []string{"/bin/true"}, Profile: profile, NoNetwork: true, Workspace: ws}); err != nil {
			b.Fatal(err)
		}
	}
}
