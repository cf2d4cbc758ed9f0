package fileaudit

import (
	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/profiles"
)

// legacyCalls are the path system calls older than their *at forms, which amd64 still has.
var legacyCalls = map[uintptr]watchedCall{
	unix.SYS_OPEN:     call("open", profiles.AccessRead, [2]int{-1, 0}),
	unix.SYS_CREAT:    call("open", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_UNLINK:   call("delete", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_RMDIR:    call("delete", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_RENAME:   call("rename", profiles.AccessWrite, [2]int{-1, 0}, [2]int{-1, 1}),
	unix.SYS_RENAMEAT: call("rename", profiles.AccessWrite, [2]int{0, 1}, [2]int{2, 3}),
	unix.SYS_MKDIR:    call("mkdir", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_LINK:     call("link", profiles.AccessWrite, [2]int{-1, 1}),
	unix.SYS_SYMLINK:  call("create", profiles.AccessWrite, [2]int{-1, 1}),
	unix.SYS_MKNOD:    call("create", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_CHMOD:    call("write", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_CHOWN:    call("write", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_LCHOWN:   call("write", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_UTIMES:   call("write", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_UTIME:    call("write", profiles.AccessWrite, [2]int{-1, 0}),
}
