package main

import (
	"github.com/agentrun/agentrun/cmd/agentrun/cli"
	"github.com/agentrun/agentrun/platform/windows/wsb"
)

// namedBackends are the backends agentrun --backend NAME chooses besides the host's own:
// wsb, Windows Sandbox, which runs agents only on Windows but describes itself on every OS
// (agentrun --dry-run --backend wsb, agentrun doctor --backend wsb) and says why it cannot
// run elsewhere.
func namedBackends() []cli.NamedBackend {
	return []cli.NamedBackend{{Name: "wsb", Backend: wsb.NewBackend()}}
}
