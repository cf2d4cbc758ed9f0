//go:build !linux

package launcher

import "github.com/agentrun/agentrun/profiles"

// checkInherited has no sandbox to protect without a backend.
func checkInherited(*profiles.Policy, Stdio) error { return nil }
