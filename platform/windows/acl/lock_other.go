//go:build !unix && !windows

package acl

import (
	"fmt"
	"os"
	"runtime"
)

func lockFD(f *os.File, _ bool) error {
	return fmt.Errorf("locking %s: no file locks on %s", f.Name(), runtime.GOOS)
}
