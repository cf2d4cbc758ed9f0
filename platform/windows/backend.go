package windows

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/builtin"
)

// Backend is the Windows platform.Backend: agents in an AppContainer per profile with ACL
// grants for the run and a Job Object. Outside Windows it runs nothing (Probe and Run return
// an error) but says what it would.
type Backend struct {
	// StateDir holds the ACL journal and the runs' locks; empty means DefaultStateDir().
	StateDir string

	// planned is the last plan made, which the launch asks for twice (CheckRunnable, Run).
	mu      sync.Mutex
	planned struct {
		pol *profiles.Policy
		exe string
		p   *plan
	}
}

// planOf is the plan of a run of pol's agent exe on this host, made once per launch.
func (b *Backend) planOf(pol *profiles.Policy, exe string) *plan {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.planned.p == nil || b.planned.pol != pol || b.planned.exe != exe {
		home, _ := os.UserHomeDir()
		b.planned.pol, b.planned.exe, b.planned.p = pol, exe, planFor(pol, exe, home, osFiles{}, winPath)
	}
	return b.planned.p
}

// NewBackend is the Windows backend with its state in DefaultStateDir.
func NewBackend() *Backend { return &Backend{} }

var _ platform.Backend = (*Backend)(nil)

// DefaultStateDir is where the backend keeps its journal: %LOCALAPPDATA%\agentrun\windows.
func DefaultStateDir() string {
	dir, err := os.UserCacheDir() // %LocalAppData% on Windows
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "agentrun", "windows")
}

func (b *Backend) stateDir() string {
	if b.StateDir != "" {
		return b.StateDir
	}
	return DefaultStateDir()
}

// Probe reports whether this backend can run agents here: on any Windows (audit mode needs
// only a Job Object); whether enforce mode's AppContainer is there is for Layers and Run to
// say, per policy.
func (b *Backend) Probe() error {
	if h := probeHost(); !h.Windows {
		return fmt.Errorf("the Windows backend runs agents only on Windows: %w", platform.ErrUnsupported)
	}
	return nil
}

// Layers lists the mechanisms pol is compiled to on this host.
func (b *Backend) Layers(pol *profiles.Policy) []platform.Layer {
	return layersFor(pol, probeHost(containerName(pol.Name)))
}

// Doctor writes what this machine offers agentrun.
func (b *Backend) Doctor(w io.Writer) error { return writeDoctor(w, probeHost(builtinContainers()...)) }

// Targets are none of the backend's own: wsb, applocker and wdac are portable compile targets
// (cmd/agentrun/cli).
func (b *Backend) Targets() []platform.Target { return nil }

// Warm has nothing to begin early.
func (b *Backend) Warm(io.Reader, io.Writer, io.Writer) func() { return func() {} }

// RuntimeDirs is the state directory, which holds the journal.
func (b *Backend) RuntimeDirs() []string {
	if d := b.stateDir(); d != "" {
		return []string{d}
	}
	return nil
}

// LPACEnv, set to 1, runs agents in a less privileged AppContainer (LPAC): without the
// access every AppContainer has through ALL APPLICATION PACKAGES (much of the system's files
// and registry), only what ALL RESTRICTED APPLICATION PACKAGES has and the run's grants. Some
// programs do not start that way; it is an option, not the default.
const LPACEnv = "AGENTRUN_LPAC"

// TierAppContainer is the tier an Outcome names on Windows.
const TierAppContainer = "appcontainer"

// builtinContainers are the containers of the built-in profiles, which agentrun setup exempts
// from loopback isolation.
func builtinContainers() []string {
	files, _ := fs.Glob(builtin.FS, "*.yaml")
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = containerName(strings.TrimSuffix(f, ".yaml"))
	}
	return out
}

func sortedNames(names []string) []string {
	sort.Strings(names)
	return names
}

// CheckRunnable refuses, before the launch, an agent the container would not run: a program
// inside a write root that exec.allow does not cover (write roots are granted without
// execute). Everything else is for the container and AppLocker / App Control to decide: the
// policy's exec rules name Unix paths.
func (b *Backend) CheckRunnable(pol *profiles.Policy, path string) error {
	if pol.Mode == profiles.ModeAudit {
		return nil
	}
	return b.planOf(pol, path).runnable(path)
}
