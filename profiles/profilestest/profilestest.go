// Package profilestest has what tests of several packages share about profiles: a fixed
// launch to expand them for, so that results do not depend on the machine.
package profilestest

import "github.com/agentrun/agentrun/profiles"

// Env is a fixed expansion environment: home /home/user, workspace /home/user/project,
// $TMPDIR /tmp and the XDG directories under the home.
var Env = profiles.Env{
	Home:       "/home/user",
	Workspace:  "/home/user/project",
	TmpDir:     "/tmp",
	ConfigHome: "/home/user/.config",
	DataHome:   "/home/user/.local/share",
	StateHome:  "/home/user/.local/state",
	CacheHome:  "/home/user/.cache",
}
