//go:build !windows

package wsb

import (
	"context"

	"github.com/agentrun/agentrun/platform"
)

// Run refuses: Windows Sandbox exists only on Windows.
func (b *Backend) Run(context.Context, *platform.Spec) (int, error) { return 0, ErrNotWindows }
