package main

import (
	"os"

	"github.com/agentrun/agentrun/platform/linux"
)

// init runs the in-sandbox stage before anything else: agentrun starts itself once, in the
// sandbox's new namespaces, as its PID 1. Running from init keeps the stage on the main
// thread, which it confines and from which it starts the agent.
func init() {
	if linux.IsStage(os.Args) {
		linux.RunStage() // never returns
	}
}
