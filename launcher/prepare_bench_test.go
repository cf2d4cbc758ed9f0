package launcher

import "testing"

// BenchmarkPrepareBase is agentrun's part of a launch before the sandbox: the catalog, the
// base profile parsed, checked and resolved for a workspace.
func BenchmarkPrepareBase(b *testing.B) {
	ws := b.TempDir()
	for b.Loop() {
		cat, err := LoadCatalog()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Prepare(cat, Request{Command: []string{"/bin/true"}, Profile: "base", NoNetwork: true, Workspace: ws}); err != nil {
			b.Fatal(err)
		}
	}
}
