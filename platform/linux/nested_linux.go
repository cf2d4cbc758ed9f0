package linux

import (
	"bytes"
	"errors"
	"os"
	"sync"

	"github.com/agentrun/agentrun/platform/linux/stage"
)

// errNested refuses a run inside an agentrun sandbox, where no other can be made (new user
// namespaces are refused there, and the host's state is out of reach) and each attempt
// failed on whatever came first, with a message about that.
var errNested = errors.New("this is an agentrun sandbox already (its PID 1 is agentrun's stage), and no sandbox can be made inside one: run the command without agentrun, confined as it is by the sandbox around it")

// insideSandbox reports whether this process runs in an agentrun sandbox's PID namespace:
// its PID 1 is the stage. (The Landlock + seccomp tier has none; a run nested in it stacks
// its own Landlock domain and filter on the outer ones.)
//
// Read once: the run command's probe and the launcher's both ask, on every launch.
var insideSandbox = sync.OnceValue(func() bool {
	b, err := os.ReadFile("/proc/1/cmdline")
	if err != nil {
		return false
	}
	args := bytes.Split(b, []byte{0})
	return len(args) > 1 && string(args[1]) == stage.Arg
})
