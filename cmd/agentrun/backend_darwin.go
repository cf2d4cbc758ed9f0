package main

import (
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/darwin"
)

// newBackend is this host's sandbox: macOS's sandbox-exec.
func newBackend() platform.Backend { return darwin.NewBackend() }
