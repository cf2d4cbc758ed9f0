//go:build linux

package stage

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// procName is the stage's name, NUL-terminated for PR_SET_NAME.
var procName = []byte("agentrun-stage\x00")

// setName names this thread, the stage's main one, agentrun-stage: its name in ps and
// /proc/1/comm, whichever binary runs (agentrun runs agentrun-stage through a descriptor, whose
// number would name it).
func setName() {
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&procName[0])), 0, 0, 0)
}
