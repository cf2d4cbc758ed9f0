//go:build !darwin

package darwin

import (
	"context"
	"runtime"

	"github.com/agentrun/agentrun/platform"
)

// launchHost is what a launch needs to know of the host: outside macOS, nothing is there.
func launchHost() Host {
	return Host{SandboxExecWhy: "sandbox-exec exists only on macOS, and this is " + runtime.GOOS}
}

// probeHost is launchHost, and more for doctor: outside macOS, the same.
func probeHost() Host {
	h := launchHost()
	h.SIPWhy, h.SantaWhy, h.FullDiskAccess = "not macOS", "not macOS", "unknown (not macOS)"
	return h
}

// Run runs nothing outside macOS.
func (b *Backend) Run(context.Context, *platform.Spec) (int, error) {
	return 0, platform.ErrUnsupported
}
