//go:build linux && !amd64

package linux

import (
	"errors"
	"os"
)

// cloneIntoNamespaces is amd64's (its instructions and registers); elsewhere the stage is
// forked into its namespaces by Go.
func cloneIntoNamespaces(pid int, flags uintptr, writeMaps func(pid int) error, ambient []uintptr) (*os.Process, error) {
	return nil, errors.ErrUnsupported
}

const cloneArch = false
