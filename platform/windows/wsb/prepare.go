package wsb

import (
	"fmt"

	"github.com/agentrun/agentrun/profiles"
)

// runRequest is what one run's files are made from.
type runRequest struct {
	Policy *profiles.Policy // resolved for the host
	// Home and Workspace are the host's (Windows) folders; the policy's rules under them
	// are mapped.
	Home, Workspace string
	Command         []string // the agent's argv
	Lossy           bool     // give up what a .wsb cannot express (--allow-degraded)
	RunFolder       string   // the host folder mapped at RunFolder
	CloseOnExit     bool     // the sandbox shuts down when the agent exits
	IsDir           func(string) bool
}

// prepared is one run's files: the .wsb and the logon script.
type prepared struct {
	WSB    []byte
	Script string
	Result *Result
}

// prepare compiles the policy for a run: the .wsb runs the run's script at logon, from the
// run folder it maps writable besides the profile's folders. A strict compile refuses the
// rules a .wsb cannot express (LostError).
func prepare(r runRequest) (*prepared, error) {
	if len(r.Command) == 0 {
		return nil, fmt.Errorf("no command to run in Windows Sandbox")
	}
	placed := Place(r.Policy, r.Home, r.Workspace)
	res, err := Compile(placed, Options{Home: r.Home, Workspace: r.Workspace, Command: logonArgv(), Lossy: r.Lossy, IsDir: r.IsDir})
	if err != nil {
		return nil, err
	}
	out, err := withRunFolder(res.WSB, r.RunFolder)
	if err != nil {
		return nil, err
	}
	return &prepared{WSB: out, Script: runScript(r.Command, joinArgs, r.CloseOnExit), Result: res}, nil
}

// RunHint is what to do about a LostError at launch.
const RunHint = "pass --allow-degraded to run without these rules (each is listed), or run the profile with agentrun's default Windows backend (AppContainer), which enforces them"
