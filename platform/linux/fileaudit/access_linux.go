package fileaudit

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/seccompfilter"
	"github.com/agentrun/agentrun/profiles"
)

// fileAccess is one file or exec access the notifier decoded from a system call.
type fileAccess struct {
	pid    int
	op     string // open, exec, delete, rename, mkdir, link, create, write
	access profiles.Access
	create bool     // open with O_CREAT
	excl   bool     // open with O_CREAT|O_EXCL: an existing path fails with EEXIST
	paths  []string // canonical, as the process sees them
	// exists and isDir say, for each path, what was there when the call was made (it
	// waits while they are read: afterwards a deleted file is gone, a created one there).
	exists, isDir []bool
	// own says, for each path, that it is on one of the sandbox's own file systems;
	// unresolved, that it took too many lookups to resolve (errTooComplex); full, that it
	// is a directory with something in it, which a delete (rmdir) leaves with ENOTEMPTY
	// whatever the sandbox does.
	own, unresolved, full []bool
	proc                  *procInfo
	// An exec's file, O_PATH, and the caller's view, for the judge to read its #! line:
	// released by the judge (release). -1 and nil otherwise.
	execFD int
	view   *agentView
	ownFS  *ownFS // the sandbox's own file systems, with view
	// execID is the exec'd file's version when the call was made (with execFD).
	execID programID
	// callerUnread: the notifier let the call go on without reading its caller, since the
	// judge makes no event of it (needsCaller); proc is read if one is made after all.
	callerUnread bool
	// guessedDir: where a relative path of a refusal whose process had ended was taken to
	// start (see Observer.Refused).
	guessedDir guess
	// lost: a path's lookup stopped where a process ended during it (a /proc link of one),
	// so that it is left as written, not as what it reached. The notifier's callers wait
	// while their paths are looked up; what the kernel reported after the call is counted
	// instead of judged (Observer.Unplaced, Unjudged).
	lost bool
	// recorded: the judge made an event of it.
	recorded bool
}

// guess says where the working directory of a process that had ended was taken from.
type guess int

const (
	guessNone     guess = iota
	guessAgentDir       // the agent's: the process's own was not known
	guessExecDir        // the process's when it executed its program: it may have moved since
)

// reason is what an event of a path so placed adds to its reason.
func (g guess) reason() string {
	switch g {
	case guessAgentDir:
		return " (a relative path of a process that had ended, taken from the agent's working directory)"
	case guessExecDir:
		return " (a relative path of a process that had ended, taken from the directory it started its program in)"
	}
	return ""
}

// watchedCall says what a reported system call does and where it keeps its paths. A path
// is an argument index, with the index of its directory descriptor (-1: relative to the
// working directory). Its name and flag arguments are the filter's (seccompfilter.Calls).
type watchedCall struct {
	name   string
	op     string
	access profiles.Access
	paths  [][2]int // {dirfd argument or -1, path argument}
	flags  int      // open flags argument, or -1
	how    int      // openat2's struct open_how argument, or -1
	empty  int      // the flags argument where AT_EMPTY_PATH may be set, or -1
}

func call(op string, a profiles.Access, paths ...[2]int) watchedCall {
	return watchedCall{op: op, access: a, paths: paths, how: -1}
}

// atCalls are the *at system calls every architecture has.
var atCalls = map[uintptr]watchedCall{
	unix.SYS_OPENAT:      call("open", profiles.AccessRead, [2]int{0, 1}),
	unix.SYS_OPENAT2:     {op: "open", access: profiles.AccessRead, paths: [][2]int{{0, 1}}, how: 2},
	unix.SYS_EXECVE:      call("exec", profiles.AccessExec, [2]int{-1, 0}),
	unix.SYS_EXECVEAT:    call("exec", profiles.AccessExec, [2]int{0, 1}),
	unix.SYS_UNLINKAT:    call("delete", profiles.AccessWrite, [2]int{0, 1}),
	unix.SYS_RENAMEAT2:   call("rename", profiles.AccessWrite, [2]int{0, 1}, [2]int{2, 3}),
	unix.SYS_MKDIRAT:     call("mkdir", profiles.AccessWrite, [2]int{0, 1}),
	unix.SYS_LINKAT:      call("link", profiles.AccessWrite, [2]int{2, 3}),
	unix.SYS_SYMLINKAT:   call("create", profiles.AccessWrite, [2]int{1, 2}),
	unix.SYS_TRUNCATE:    call("write", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_MKNODAT:     call("create", profiles.AccessWrite, [2]int{0, 1}),
	unix.SYS_FCHMODAT:    call("write", profiles.AccessWrite, [2]int{0, 1}),
	unix.SYS_FCHOWNAT:    call("write", profiles.AccessWrite, [2]int{0, 1}),
	unix.SYS_UTIMENSAT:   call("write", profiles.AccessWrite, [2]int{0, 1}),
	unix.SYS_SETXATTR:    call("write", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_LSETXATTR:   call("write", profiles.AccessWrite, [2]int{-1, 0}),
	unix.SYS_REMOVEXATTR: call("write", profiles.AccessWrite, [2]int{-1, 0}),
}

// watchedCalls are the system calls the sandbox's seccomp filter reports, by number: the
// filter's calls, each with what the judge makes of it. A call of one table missing from the
// other is a mistake of this package's, which no run may start with.
var watchedCalls = func() map[uintptr]watchedCall {
	m := map[uintptr]watchedCall{}
	for _, judged := range []map[uintptr]watchedCall{atCalls, legacyCalls} {
		for nr, c := range judged {
			f, ok := seccompfilter.Calls[nr]
			if !ok {
				panic(fmt.Sprintf("fileaudit: system call %d is judged but not reported by the filter", nr))
			}
			c.name, c.flags, c.empty = f.Name, f.Flags, f.Empty
			m[nr] = c
		}
	}
	if len(m) != len(seccompfilter.Calls) {
		panic("fileaudit: the filter reports system calls that are not judged")
	}
	return m
}()

// decodeAccess reads the paths of a reported call from the caller's memory, makes them
// absolute against its working directory or directory descriptors, and resolves them in its
// view (agentView): the canonical path the kernel will reach, whether it exists, whether it is
// the sandbox's own. It runs while the caller waits, so what it reads is what the kernel will
// use; it only looks paths up (O_PATH), never opens what they name. listener checks that the
// caller is still the thread that made the call once its pid has been used.
func decodeAccess(req *seccompNotif, listener int, own *ownFS) (fileAccess, bool) {
	c, ok := watchedCalls[uintptr(req.Nr)]
	if !ok {
		return fileAccess{}, false
	}
	pid := int(req.Pid)
	flags := uint64(0)
	switch {
	case c.flags >= 0:
		flags = req.Args[c.flags]
	case c.how >= 0:
		var b [8]byte
		if readMemory(pid, uintptr(req.Args[c.how]), b[:]) != len(b) {
			return fileAccess{}, false
		}
		flags = binary.NativeEndian.Uint64(b[:])
	}
	raws := make([][]byte, len(c.paths))
	for i, p := range c.paths {
		if raws[i], ok = readPath(pid, uintptr(req.Args[p[1]])); !ok {
			return fileAccess{}, false
		}
	}
	return decodeCall(c, pid, req.Args, flags, raws, own, baseDir, func() bool { return notifIDValid(listener, req.ID) })
}

// decodeCall is decodeAccess once the call's paths (raws, in the order of c.paths) and open
// flags are known: from the caller's memory while it waits, or from the kernel's report of a
// call it refused (Observer.Refused). base says where a relative path starts (baseDir, for a
// caller that waits); valid, whether pid is still the caller.
func decodeCall(c watchedCall, pid int, args [6]uint64, flags uint64, raws [][]byte, own *ownFS, base func(pid, dirfd int) (string, bool), valid func() bool) (fileAccess, bool) {
	a := fileAccess{pid: pid, op: c.op, access: c.access, execFD: -1}
	follow := c.op == "open" || c.op == "exec" || c.op == "write"
	if c.name == "creat" {
		flags = unix.O_CREAT | unix.O_WRONLY | unix.O_TRUNC // creat(2) is this open, without flags
	}
	if c.op == "open" {
		if flags&unix.O_PATH != 0 {
			return fileAccess{}, false // a handle, no access
		}
		if seccompfilter.OpenWrites(flags) {
			a.access = profiles.AccessWrite
		}
		a.create = flags&unix.O_CREAT != 0
		a.excl = a.create && flags&unix.O_EXCL != 0
		// O_CREAT|O_EXCL never follows a last symlink: the link itself exists (EEXIST).
		follow = flags&unix.O_NOFOLLOW == 0 && !a.excl
	}
	var fulls []string
	for i, p := range c.paths {
		raw := raws[i]
		dirfd := unix.AT_FDCWD
		if p[0] >= 0 {
			dirfd = int(int32(args[p[0]]))
		}
		if len(raw) == 0 && (c.empty < 0 || args[c.empty]&unix.AT_EMPTY_PATH == 0) {
			return fileAccess{}, false // ENOENT: nothing accessed
		}
		dir, ok := "", false
		if len(raw) == 0 || raw[0] != '/' {
			if dir, ok = base(pid, dirfd); !ok {
				return fileAccess{}, false
			}
			if len(raw) == 0 {
				raw = []byte(".") // AT_EMPTY_PATH: the descriptor itself
			}
		}
		full, ok := eventPath(raw, dir)
		if !ok {
			return fileAccess{}, false
		}
		fulls = append(fulls, full)
	}
	v, err := own.view(pid)
	if err != nil {
		return fileAccess{}, false
	}
	learnt := own.devs == nil
	own.learn(v)
	if !valid() {
		v.close() // gone: the pid may name another process now
		if learnt {
			own.forget()
		}
		return fileAccess{}, false
	}
	for i, full := range fulls {
		keep := c.op == "exec" && i == 0
		r := v.resolve(full, follow, keep)
		a.paths = append(a.paths, r.path)
		a.exists, a.isDir = append(a.exists, r.exists), append(a.isDir, r.dir)
		a.own = append(a.own, own.has(r))
		a.unresolved = append(a.unresolved, r.err == errTooComplex)
		a.lost = a.lost || ended(r.err)
		a.full = append(a.full, c.op == "delete" && r.exists && r.dir && !v.dirEmpty(r.path))
		if keep && r.fd >= 0 {
			// Its version, only here: its handle is one more call.
			a.execFD, a.view, a.ownFS, a.execID = r.fd, v, own, programIDOf(r.fd, &r.st)
		}
	}
	if v.guessed {
		a.guessedDir = own.goneFrom
	}
	if a.view == nil {
		v.close()
	}
	return a, true
}

// baseDir is the path, in the caller's view, of the directory a relative name is resolved
// from: dirfd's, or the working directory. /proc shows both as the sandbox sees them.
func baseDir(pid, dirfd int) (string, bool) {
	link := "/proc/" + strconv.Itoa(pid) + "/cwd"
	if dirfd != unix.AT_FDCWD {
		link = "/proc/" + strconv.Itoa(pid) + "/fd/" + strconv.Itoa(dirfd)
	}
	base, err := os.Readlink(link)
	if err != nil || !strings.HasPrefix(base, "/") {
		return "", false
	}
	return base, true
}

// release closes what a decoded access holds for the judge: the exec'd file and the view.
func (a *fileAccess) release() {
	if a.execFD >= 0 {
		unix.Close(a.execFD)
		a.execFD = -1
	}
	if a.view != nil {
		a.view.close()
		a.view = nil
	}
}
