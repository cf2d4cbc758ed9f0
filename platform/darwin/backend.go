package darwin

import (
	"io"
	"os"
	"path/filepath"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
)

// Backend is the macOS platform.Backend: agents under /usr/bin/sandbox-exec with the SBPL
// profile their policy compiles to, network only through agentrun's proxy. Outside macOS it
// runs nothing (Probe and Run return platform.ErrUnsupported) but says what it would.
type Backend struct {
	// RunDir holds the runs' profile files; empty means DefaultRunDir().
	RunDir string
}

// NewBackend is the macOS backend with its files in DefaultRunDir.
func NewBackend() *Backend { return &Backend{} }

var _ platform.Backend = (*Backend)(nil)

// DefaultRunDir is where runs keep their profile files: ~/Library/Caches/agentrun/run.
func DefaultRunDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "agentrun", "run")
}

// Probe reports whether sandbox-exec can run agents here.
func (b *Backend) Probe() error {
	h := launchHost()
	if !h.SandboxExec {
		return &platform.LayerError{Layer: LayerSeatbelt, Enforces: "every rule of the profile", Fix: h.SandboxExecWhy}
	}
	return nil
}

// Layers lists the mechanisms pol is compiled to on this host.
func (b *Backend) Layers(pol *profiles.Policy) []platform.Layer { return layersFor(pol, launchHost()) }

// Doctor writes what this Mac offers agentrun.
func (b *Backend) Doctor(w io.Writer) error { return writeDoctor(w, probeHost()) }

// Setup has nothing to prepare: sandbox-exec and the unified log need no installation.
func (b *Backend) Setup() ([]string, error) {
	return []string{"darwin: nothing to set up (sandbox-exec and the unified log ship with macOS)"}, nil
}

// Targets are none of the backend's own: the SBPL, Santa and TCC outputs are portable
// compile targets (cmd/agentrun/cli).
func (b *Backend) Targets() []platform.Target { return nil }

// Warm has nothing to begin early: sandbox-exec starts in milliseconds.
func (b *Backend) Warm(io.Reader, io.Writer, io.Writer) func() { return func() {} }

// RuntimeDirs is the run directory, which holds the runs' profiles.
func (b *Backend) RuntimeDirs() []string {
	if b.RunDir != "" {
		return []string{b.RunDir}
	}
	if d := DefaultRunDir(); d != "" {
		return []string{d}
	}
	return nil
}

// TierSandboxExec is the tier an Outcome names on macOS.
const TierSandboxExec = "sandbox-exec"
