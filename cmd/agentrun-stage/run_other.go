//go:build !linux

package main

import (
	"fmt"
	"os"
)

func run() {
	fmt.Fprintln(os.Stderr, "agentrun-stage: agentrun's sandbox stage runs on Linux only")
	os.Exit(2)
}
