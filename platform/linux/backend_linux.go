package linux

import (
	"fmt"
	"io"
	"os"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/linux/apparmor"
	"github.com/agentrun/agentrun/profiles"
)

// Backend is the Linux platform.Backend: sandboxes agentrun builds itself, or the
// Landlock + seccomp tier where namespaces cannot be had.
type Backend struct {
	Sandbox
}

// NewBackend is the Linux backend with its state in DefaultStateRoot.
func NewBackend() *Backend { return &Backend{} }

var _ platform.Backend = (*Backend)(nil)

// Probe refuses a run inside an agentrun sandbox (errNested); every Linux host runs agents
// otherwise, in one tier or another (Layers says which).
func (b *Backend) Probe() error {
	if insideSandbox() {
		return errNested
	}
	return nil
}

// Layers lists the mechanisms pol is compiled to on this host.
func (b *Backend) Layers(pol *profiles.Policy) []platform.Layer {
	var out []platform.Layer
	for _, l := range Layers(pol, ProbeHost()) {
		out = append(out, platform.Layer{Name: l.ID.String(), Enforces: l.Enforces, Needed: l.Needed, Available: l.Available, Fix: l.Fix, Degraded: l.Degraded, Records: l.Records})
	}
	return out
}

// Setup installs agentrun's AppArmor profile where AppArmor restricts user namespaces.
func (b *Backend) Setup() ([]string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the agentrun binary: %w", err)
	}
	h := ProbeHost()
	return apparmor.Setup(self, h.AppArmor, h.Root)
}

// Targets are the seccomp filter, the AppArmor profile and the mount and Landlock plan.
func (b *Backend) Targets() []platform.Target {
	return []platform.Target{
		{Name: "seccomp", Usage: "the seccomp filter as an OCI runtime-spec profile (linux.seccomp)", Compile: CompileSeccomp},
		{Name: "apparmor", Usage: "the AppArmor profile the policy becomes (apparmor_parser syntax)", Compile: apparmor.Compile},
		{Name: "landlock", Usage: "the mounts and Landlock ruleset the policy becomes on this host, for people", Compile: CompileLandlock},
	}
}

// RuntimeDirs are the directories of the sandboxes' runtime state: the state root, or the
// agentrun directory above it when agentrun made both (~/.cache/agentrun/run).
func (b *Backend) RuntimeDirs() []string {
	if b.StateRoot != "" {
		return []string{b.StateRoot}
	}
	if own := DefaultRuntime().Own(); own != "" {
		return []string{own}
	}
	return nil
}

// Doctor writes what this host offers agentrun and which tier a run gets.
func (b *Backend) Doctor(w io.Writer) error {
	h := ProbeHost()
	h.checkBPFLoads()
	return doctor(w, h)
}
