package wsb

import (
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
)

// Backend runs agents in Windows Sandbox (agentrun --backend wsb -- CMD): the policy
// compiled to a .wsb (Compile), launched with the wsb command or WindowsSandbox.exe, the run
// ending when the sandbox's window closes, with the agent's exit status read from the run's
// own mapped folder. Off Windows it runs nothing (ErrNotWindows) but says what it would, so
// agentrun --dry-run --backend wsb works everywhere.
type Backend struct {
	// RunDir holds the runs' .wsb files and run folders; empty means DefaultRunDir().
	RunDir string
	// CloseOnExit shuts the sandbox down as soon as the agent exits, for unattended runs (and
	// tests); without it the window stays open with the agent's output until the user closes
	// it.
	CloseOnExit bool
	// probe, when set, stands for the host (tests); nil probes it.
	probe func() Host
}

var _ platform.Backend = (*Backend)(nil)

// NewBackend is the Windows Sandbox backend with its files in DefaultRunDir.
func NewBackend() *Backend { return &Backend{} }

// DefaultRunDir is where runs keep their files: %LOCALAPPDATA%\agentrun\wsb on Windows (the
// user's own, not readable by others), the user cache directory's agentrun/wsb elsewhere.
func DefaultRunDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "agentrun", "wsb")
}

func (b *Backend) host() Host {
	if b.probe != nil {
		return b.probe()
	}
	return probeHost()
}

// Probe reports whether Windows Sandbox can be launched here.
func (b *Backend) Probe() error { return b.host().usable() }

// Layers lists what confines pol in Windows Sandbox, and the rules a .wsb gives up.
func (b *Backend) Layers(pol *profiles.Policy) []platform.Layer {
	home, _ := os.UserHomeDir()
	placed := Place(pol, home, workspaceOf(pol))
	res, err := Compile(placed, previewOptions(true))
	if err != nil {
		return []platform.Layer{{Name: LayerVM, Enforces: "nothing: " + err.Error(), Needed: true}}
	}
	return layersFor(placed, res, b.host())
}

// previewOptions are the Options of a .wsb compiled to be described, not launched: the
// host's home and workspace on Windows, stand-ins elsewhere (the paths are not shown).
func previewOptions(lossy bool) Options {
	o := Options{Home: `C:\Users\user`, Workspace: `C:\workspace`, Command: logonArgv(), Lossy: lossy}
	if runtime.GOOS == "windows" {
		if h := os.Getenv("USERPROFILE"); windowsAbs(h) {
			o.Home = h
		}
		if wd, err := os.Getwd(); err == nil && windowsAbs(wd) {
			o.Workspace = wd
		}
	}
	return o
}

// workspaceOf is the workspace a policy was resolved for, read from a rule written
// $WORKSPACE; "" when none is.
func workspaceOf(pol *profiles.Policy) string {
	for _, rules := range [][]profiles.PathRule{pol.Filesystem.Write, pol.Filesystem.Read} {
		for _, r := range rules {
			if r.Pattern == "$WORKSPACE" {
				return r.Path
			}
		}
	}
	return ""
}

// Doctor writes whether Windows Sandbox is enabled here, and how to enable it.
func (b *Backend) Doctor(w io.Writer) error { return writeDoctor(w, b.host()) }

// Setup has nothing to prepare beyond enabling Windows Sandbox, which needs an
// administrator and a restart: it says how.
func (b *Backend) Setup() ([]string, error) {
	if err := b.host().usable(); err != nil {
		return []string{"wsb: " + err.Error()}, nil
	}
	return []string{"wsb: nothing to set up (Windows Sandbox is enabled)"}, nil
}

// Targets are none: agentrun compile --target wsb is a portable compile target.
func (b *Backend) Targets() []platform.Target { return nil }

// Warm has nothing to begin early.
func (b *Backend) Warm(io.Reader, io.Writer, io.Writer) func() { return func() {} }

// RuntimeDirs is the run directory.
func (b *Backend) RuntimeDirs() []string {
	if d := b.runDir(); d != "" {
		return []string{d}
	}
	return nil
}

func (b *Backend) runDir() string {
	if b.RunDir != "" {
		return b.RunDir
	}
	return DefaultRunDir()
}

// TierWSB is the tier an Outcome names for a run in Windows Sandbox.
const TierWSB = "windows-sandbox"

// CheckRunnable lets every command through: it runs in the VM, where a .wsb has no exec rules
// (they are given up, and listed, with --allow-degraded).
func (b *Backend) CheckRunnable(*profiles.Policy, string) error { return nil }
