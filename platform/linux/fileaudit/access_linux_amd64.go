package fileaudit

import (
	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/profiles"
)

// legacyCalls are the path system calls older than their *at forms, which amd64 still has.
var legacyCalls = map[uintptr]watchedCall{
	unix.SYS_OPEN:     {name: "open", op: "open", access: profiles.AccessRead, paths: [][2]int{{-1, 0}}, flags: 1, how: -1, empty: -1},
	unix.SYS_CREAT:    {name: "creat", op: "open", access: profiles.AccessWrite, paths: [][2]int{{-1, 0}}, flags: -1, how: -1, empty: -1},
	unix.SYS_UNLINK:   call("unlink", "delete", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_RMDIR:    call("rmdir", "delete", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_RENAME:   call("rename", "rename", profiles.AccessWrite, [2]int{-1, 0}, [2]int{-1, 1}),
	unix.SYS_RENAMEAT: call("renameat", "rename", profiles.AccessWrite, [2]int{0, 1}, [2]int{2, 3}),
	unix.SYS_MKDIR:    call("mkdir", "mkdir", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_LINK:     call("link", "link", profiles.AccessWrite, [2]int{-1, 1}),
	unix.SYS_SYMLINK:  call("symlink", "create", profiles.AccessWrite, [2]int{-1, 1}),
	unix.SYS_MKNOD:    call("mknod", "create", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_CHMOD:    call("chmod", "write", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_CHOWN:    call("chown", "write", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_LCHOWN:   call("lchown", "write", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_UTIMES:   call("utimes", "write", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_UTIME:    call("utime", "write", profiles.AccessWrite, [2]int{-1, 0}),
}
