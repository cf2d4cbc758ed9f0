// Command agentrun-stage is agentrun's sandbox stage (package platform/linux/stage) in a binary
// of its own: agentrun starts it in the sandbox's new namespaces, on every launch, and it starts
// in a fraction of agentrun's time, for it links none of agentrun's policy, planning, recording
// or network stack. scripts/build.sh builds it beside agentrun, which uses it only when it
// comes from the same build; otherwise agentrun starts itself as the stage. It is not meant to
// be run by hand.
package main

import (
	"fmt"
	"os"
)

// main is reached only when the stage was not started (see init).
func main() {
	fmt.Fprintln(os.Stderr, "agentrun-stage: agentrun starts this program in the sandboxes it makes (Linux only); run agentrun instead")
	os.Exit(2)
}
