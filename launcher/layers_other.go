//go:build !linux

package launcher

import (
	"fmt"
	"io"
	"runtime"
)

func (p *Plan) describeLayers(w io.Writer) {
	fmt.Fprintf(w, "  layers\tnone: no sandbox backend for %s in this build\n", runtime.GOOS)
}

// Doctor writes what this host offers agentrun.
func Doctor(w io.Writer) error {
	_, err := fmt.Fprintf(w, "agentrun doctor\n  %s: no sandbox backend in this build; agentrun -- CMD refuses to run\n", runtime.GOOS)
	return err
}

// Setup has nothing to prepare without a sandbox backend.
func Setup() ([]string, error) {
	return []string{runtime.GOOS + ": nothing to set up in this build"}, nil
}
