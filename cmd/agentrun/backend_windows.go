package main

import (
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/windows"
)

// newBackend is this host's sandbox: an AppContainer per profile with a Job Object.
func newBackend() platform.Backend { return windows.NewBackend() }
