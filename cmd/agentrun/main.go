// Command agentrun runs an AI coding agent confined by the operating system:
//
//	agentrun -- claude
//
// See agentrun --help and README.md.
package main

import (
	"os"

	"github.com/agentrun/agentrun/cmd/agentrun/cli"
)

func main() {
	os.Exit(cli.Main(newBackend(), os.Args, os.Stdin, os.Stdout, os.Stderr))
}
