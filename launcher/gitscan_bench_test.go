package launcher

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/agentrun/agentrun/platform/safefs"
)

// BenchmarkScanGit is the walk for repositories after a run in enforce mode, in a workspace
// of 500 directories of 100 files each and one repository (git init's layout, older than the
// run): what every such run pays before agentrun exits.
func BenchmarkScanGit(b *testing.B) {
	ws := b.TempDir()
	for d := range 500 {
		dir := filepath.Join(ws, fmt.Sprintf("d%03d", d))
		if err := os.Mkdir(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range 100 {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d.txt", d*100+f)), nil, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, d := range []string{".git/objects/pack", ".git/refs/heads", ".git/hooks", ".git/info"} {
		if err := os.MkdirAll(filepath.Join(ws, d), 0o755); err != nil {
			b.Fatal(err)
		}
	}
	for _, f := range []string{".git/HEAD", ".git/config", ".git/description"} {
		if err := os.WriteFile(filepath.Join(ws, f), []byte("x\n"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	r, err := safefs.OpenRoot(ws)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	a := &afterRun{ws: r, roots: []*safefs.Root{r}, start: coarseNow() + 1e12, stderr: io.Discard}
	b.ResetTimer()
	for b.Loop() {
		a.scanGit()
	}
}
