package main

import (
	"fmt"
	"os"

	"github.com/agentrun/agentrun/platform/linux/stage"
)

func run() {
	if !stage.Is(os.Args) {
		fmt.Fprintln(os.Stderr, "agentrun-stage: agentrun starts this program in the sandboxes it makes; run agentrun instead")
		os.Exit(2)
	}
	stage.Run() // never returns
}
