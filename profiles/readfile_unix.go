//go:build unix

package profiles

import "syscall"

const nonBlock = syscall.O_NONBLOCK
