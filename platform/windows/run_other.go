//go:build !windows

package windows

import (
	"context"
	"fmt"

	"github.com/agentrun/agentrun/platform"
)

// Run runs nothing outside Windows.
func (b *Backend) Run(context.Context, *platform.Spec) (int, error) {
	return 0, fmt.Errorf("the Windows backend runs agents only on Windows: %w", platform.ErrUnsupported)
}

// Setup prepares nothing outside Windows.
func (b *Backend) Setup() ([]string, error) {
	return nil, fmt.Errorf("agentrun setup for Windows runs only on Windows: %w", platform.ErrUnsupported)
}
