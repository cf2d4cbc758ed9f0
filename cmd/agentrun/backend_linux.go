package main

import (
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/linux"
)

// newBackend is this host's sandbox: Linux's.
func newBackend() platform.Backend { return linux.NewBackend() }
