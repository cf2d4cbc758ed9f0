//go:build !windows

package acl

import "fmt"

// NewEditor returns an Editor whose calls fail with ErrWindowsOnly: this is not Windows.
func NewEditor() Editor { return otherEditor{} }

type otherEditor struct{}

func (otherEditor) Apply(_ string, g Grant) error {
	return fmt.Errorf("granting %s on %s: %w", g.Access, g.Path, ErrWindowsOnly)
}

func (otherEditor) Set(_ string, path string, _ []Grant) error {
	return fmt.Errorf("revoking on %s: %w", path, ErrWindowsOnly)
}
