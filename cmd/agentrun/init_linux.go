package main

import (
	"os"

	"github.com/agentrun/agentrun/platform/linux"
	"github.com/agentrun/agentrun/platform/linux/stageboot"
)

// init runs the in-sandbox stage before main: agentrun starts itself once, in the sandbox's
// new namespaces, as its PID 1. stageboot's init has started the stage's first part (the
// root) while the packages were being initialised; running the rest from init keeps the stage
// on the main thread, which it confines and from which it starts the agent.
func init() {
	if stageboot.IsStage(os.Args) {
		linux.RunStage() // never returns
	}
}
