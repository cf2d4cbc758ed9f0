package launcher

import "errors"

// Exit codes of agentrun itself, as docker run and env use them. Any other code is the agent's.
const (
	ExitError         = 125 // agentrun could not do what was asked
	ExitCannotExecute = 126 // the command exists but cannot be executed
	ExitNotFound      = 127 // the command was not found
)

var (
	// ErrCommandNotFound means the agent's command is not on PATH.
	ErrCommandNotFound = errors.New("command not found")
	// ErrCannotExecute means the agent's command exists but is not executable.
	ErrCannotExecute = errors.New("cannot execute")
	// ErrHomeWorkspace means the workspace holds the user's start-up files and
	// --allow-home-workspace was not given.
	ErrHomeWorkspace = errors.New("the workspace holds your start-up files")
	// ErrNoLauncher means this build has no launcher for the host.
	ErrNoLauncher = errors.New("no launcher for this host")
)

// ExitCode maps an error from this package to the process exit code agentrun should use.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrCommandNotFound):
		return ExitNotFound
	case errors.Is(err, ErrCannotExecute):
		return ExitCannotExecute
	default:
		return ExitError
	}
}
