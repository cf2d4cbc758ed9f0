package seccompfilter

import "golang.org/x/sys/unix"

// legacyCalls are the path system calls older than their *at forms, which amd64 still has.
var legacyCalls = map[uintptr]Call{
	unix.SYS_OPEN:     {Name: "open", Flags: 1, Empty: -1},
	unix.SYS_CREAT:    named("creat"),
	unix.SYS_UNLINK:   named("unlink"),
	unix.SYS_RMDIR:    named("rmdir"),
	unix.SYS_RENAME:   named("rename"),
	unix.SYS_RENAMEAT: named("renameat"),
	unix.SYS_MKDIR:    named("mkdir"),
	unix.SYS_LINK:     named("link"),
	unix.SYS_SYMLINK:  named("symlink"),
	unix.SYS_MKNOD:    named("mknod"),
	unix.SYS_CHMOD:    named("chmod"),
	unix.SYS_CHOWN:    named("chown"),
	unix.SYS_LCHOWN:   named("lchown"),
	unix.SYS_UTIMES:   named("utimes"),
	unix.SYS_UTIME:    named("utime"),
}
