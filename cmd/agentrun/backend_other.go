//go:build !linux && !darwin && !windows

package main

import "github.com/agentrun/agentrun/platform"

// newBackend is this host's sandbox: none in this build.
func newBackend() platform.Backend { return platform.Unsupported() }
