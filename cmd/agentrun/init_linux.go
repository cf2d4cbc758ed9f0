package main

import (
	"os"

	"github.com/opencontainers/runc/libcontainer"
	_ "github.com/opencontainers/runc/libcontainer/nsenter" // joins namespaces before the Go runtime starts

	"github.com/agentrun/agentrun/platform/linux"
)

// init runs agentrun's two hidden roles before anything else: libcontainer's container init
// ("agentrun init", started by libcontainer itself) and the in-sandbox stage.
func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		libcontainer.Init() // never returns
	}
	if linux.IsStage(os.Args) {
		linux.RunStage() // never returns
	}
}
