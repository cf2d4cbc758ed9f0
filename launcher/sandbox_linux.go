package launcher

import (
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/linux"
)

func newSandbox() (platform.Sandbox, error) { return &linux.Sandbox{}, nil }
