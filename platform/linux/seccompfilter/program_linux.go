package seccompfilter

import (
	"errors"

	"github.com/agentrun/agentrun/platform/linux/seccompfilter/seccompprog"
)

// Program is a filter compiled for the kernel (see Compile): what the stage loads. It lives in
// seccompprog, which imports nothing of libcontainer's, so that the stage's binary does not
// link (and initialise, at every launch) what compiling filters needs.
type Program = seccompprog.Program

// ErrNotBuilt is Compile in a binary built without libseccomp.
var ErrNotBuilt = errors.New("this binary was built without libseccomp (-tags seccomp)")
