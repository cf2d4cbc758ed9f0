//go:build !linux

package store

import (
	"errors"

	"github.com/agentrun/agentrun/platform/safefs"
)

// pinUserDir is Linux's (a directory used through /proc/self/fd): elsewhere, agentrun run as
// root for another user keeps no event store for them.
func pinUserDir(string, *safefs.Identity) (string, error) {
	return "", errors.ErrUnsupported
}
