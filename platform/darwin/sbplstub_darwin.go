//go:build darwin

package darwin

// STUB, for the lead to delete at merge (see compile_darwin.go): it stands for the package
// platform/darwin/sbpl, written on another branch, with the same names and fields so that the
// call in compile_darwin.go builds now. It compiles nothing: every run fails closed.

import (
	"errors"

	"github.com/agentrun/agentrun/profiles"
)

type sbplOptions struct {
	Tag        string
	ProxyPorts []int
	Audit      bool
}

type sbplParam struct{ Name, Value string }

type sbplProfile struct {
	Text   string
	Params []sbplParam
}

func sbplCompile(*profiles.Policy, sbplOptions) (*sbplProfile, error) {
	return nil, errors.New("this build of agentrun has no SBPL compiler (platform/darwin/sbpl): nothing would confine the agent; fix: use a build with it")
}
