package main

import (
	"os"

	"github.com/agentrun/agentrun/platform/linux/stage"
)

// init runs the in-sandbox stage before anything else, where agentrun starts itself as the
// stage (there is no agentrun-stage binary beside it: see platform/linux's stageBinary).
// Running from init keeps the stage on the main thread, which it confines and from which it
// starts the agent.
func init() {
	if stage.Is(os.Args) {
		stage.Run() // never returns
	}
}
