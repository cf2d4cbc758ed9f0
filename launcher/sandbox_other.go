//go:build !linux

package launcher

import "github.com/agentrun/agentrun/platform"

func newSandbox() (platform.Sandbox, error) { return nil, platform.ErrUnsupported }
