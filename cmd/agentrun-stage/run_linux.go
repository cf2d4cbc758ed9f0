package main

import (
	"os"

	"github.com/agentrun/agentrun/platform/linux/stage"
)

// init runs the stage, as agentrun does: on the main thread, which it confines and from which
// it starts the agent.
func init() {
	if stage.Is(os.Args) {
		stage.Run() // never returns
	}
}
