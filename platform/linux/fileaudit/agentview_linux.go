package fileaudit

import (
	"errors"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// agentView is one process's file system as it sees it, for agentrun to look into without ever
// resolving an agent-chosen path in the host's view: every lookup is an openat2 in the
// process's root (/proc/PID/root, opened once) with RESOLVE_IN_ROOT, so ".." and absolute
// symlinks stay inside it, and O_PATH, so nothing is opened for real: a FIFO or a device is
// never opened, a symlink never followed by the host. /proc magic links are followed only
// where the walk found them on the agent's procfs, one at a time (jump). The unix socket gate
// and the file judge both look through it.
type agentView struct {
	root   int  // O_PATH descriptor of the process's root directory
	shared bool // root is the sandbox's, which ownFS holds: close leaves it open
	tid    int  // the calling thread, as agentrun's /proc numbers it
	// self and threadSelf are what the process's /proc/self and /proc/thread-self name
	// (its pid and tid in its own PID namespace); read when first needed.
	self, threadSelf string
	// goneCwd, for the kernel's refusals (read after their calls), is the directory taken
	// for the working directory of a caller that has ended ("": none is taken). Its
	// /proc/self then names the sandbox's PID 1 (gone), whose root every process shares: root
	// leads there, cwd to goneCwd (guessed), any other link nowhere.
	goneCwd       string
	gone, guessed bool
	// afterCall, in tests, runs after each system call of a lookup: a test ends the process
	// there, at every step of a walk in turn.
	afterCall func()
}

// inRoot are the resolve flags of every lookup: inside the root, no magic links.
const inRoot = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// openView opens thread tid's root. The caller checks afterwards that tid is still the
// thread it means (notifIDValid): a pid can be reused.
func openView(tid int) (*agentView, error) {
	fd, err := unix.Open("/proc/"+strconv.Itoa(tid)+"/root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return &agentView{root: fd, tid: tid}, nil
}

func (v *agentView) close() {
	if !v.shared {
		unix.Close(v.root)
	}
}

// open opens the canonical path p in the view as an O_PATH descriptor, following no symlink
// at all (p has none in its directories; one in its last element is opened itself).
func (v *agentView) open(p string, extra int) (int, error) {
	defer v.called()
	return openat2Retry(v.root, p, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC|extra, inRoot|unix.RESOLVE_NO_SYMLINKS)
}

func (v *agentView) called() {
	if v.afterCall != nil {
		v.afterCall()
	}
}

// dirEmpty reports whether p (canonical in the view) is a directory with nothing in it: read
// through the view, no symlink followed, never anything but a directory opened.
func (v *agentView) dirEmpty(p string) bool {
	fd, err := openat2Retry(v.root, p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, inRoot|unix.RESOLVE_NO_SYMLINKS)
	if err != nil {
		return false
	}
	d := os.NewFile(uintptr(fd), p)
	defer d.Close()
	names, err := d.Readdirnames(1)
	return len(names) == 0 && err == io.EOF
}

// maxRetries bounds the retries of an openat2 the kernel answered with EAGAIN (a rename or a
// mount raced a ".." lookup): an agent that renames in a loop must not keep agentrun's loop
// retrying. Past it the lookup fails, and the walk, whose paths hold no "..", takes over.
const maxRetries = 4

func openat2Retry(dirfd int, p string, flags int, resolve uint64) (int, error) {
	for i := 0; ; i++ {
		fd, err := unix.Openat2(dirfd, p, &unix.OpenHow{Flags: uint64(flags), Resolve: resolve})
		if (err == unix.EAGAIN || err == unix.EINTR) && i < maxRetries {
			continue
		}
		return fd, err
	}
}

// lookup implements pathView.
func (v *agentView) lookup(p string) (viewNode, error) {
	n, err := v.lookupNow(p)
	if ended(err) && v.goneCwd != "" {
		// A process of the sandbox that has ended, or is ending — before the lookup, or
		// during it (between the link's open and its directory's): see goneLink.
		if dir, name := path.Split(p); goneProcDir(p + "/") {
			return viewNode{kind: nodeDir}, nil
		} else if goneProcDir(dir) && (name == "root" || name == "cwd") {
			return viewNode{kind: nodeMagic}, nil
		}
	}
	if err == errMissing {
		return viewNode{kind: nodeMissing}, nil
	}
	return n, err
}

// errMissing is lookupNow's ENOENT from the lookup of the path itself: nothing is there. A
// bare ENOENT from a later step means that a process's /proc directory went away meanwhile.
var errMissing = os.NewSyscallError("openat2", unix.ENOENT)

// lookupNow is lookup, with what a process that has ended leaves as errors (ENOENT, ESRCH).
func (v *agentView) lookupNow(p string) (viewNode, error) {
	fd, err := v.open(p, 0)
	if err == unix.ENOENT {
		return viewNode{kind: nodeMissing}, errMissing
	}
	if err != nil {
		return viewNode{}, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return viewNode{}, err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return viewNode{kind: nodeDir}, nil
	case unix.S_IFLNK:
	default:
		return viewNode{kind: nodeOther}, nil
	}
	var fs unix.Statfs_t
	if err := unix.Fstatfs(fd, &fs); err == nil && fs.Type == unix.PROC_SUPER_MAGIC {
		return v.procLink(p)
	}
	target, err := readlinkFD(fd)
	if err != nil {
		return viewNode{}, err
	}
	return viewNode{kind: nodeSymlink, target: target}, nil
}

// procRootIno is the inode of a procfs's root directory (PROC_ROOT_INO).
const procRootIno = 1

// procLink says what a symlink on a procfs is. In its root, self and thread-self name the
// caller's own entries (read for agentrun, they would name agentrun's, or nothing) and the
// others (mounts, net) are text; everywhere else (root, cwd, exe, fd/N, map_files, ns) they
// are magic links.
func (v *agentView) procLink(p string) (viewNode, error) {
	dir, name := path.Split(p)
	dfd, err := v.open(dir, unix.O_DIRECTORY)
	if err != nil {
		return viewNode{}, err
	}
	var st unix.Stat_t
	err = unix.Fstat(dfd, &st)
	if err != nil || st.Ino != procRootIno {
		unix.Close(dfd)
		return viewNode{kind: nodeMagic}, err
	}
	defer unix.Close(dfd)
	switch name {
	case "self", "thread-self":
		if v.self == "" {
			v.self, v.threadSelf, err = nsIDs(v.tid)
			v.called()
			if ended(err) && v.goneCwd != "" {
				v.self, v.threadSelf, v.gone, err = "1", "1/task/1", true, nil
			}
			if err != nil {
				return viewNode{}, err
			}
		}
		if name == "self" {
			return viewNode{kind: nodeSymlink, target: v.self}, nil
		}
		return viewNode{kind: nodeSymlink, target: v.threadSelf}, nil
	}
	target, err := readlinkAt(dfd, name)
	if err != nil {
		return viewNode{}, err
	}
	return viewNode{kind: nodeSymlink, target: target}, nil
}

// jump implements pathView: it follows the magic link at p, the way the kernel does for the
// agent — to the very object, not to a path — by opening it O_PATH from its directory, and
// reads back that object's path. An O_PATH open of what the link leads to opens nothing for
// real.
func (v *agentView) jump(p string) (string, error) {
	if v.gone {
		return v.goneLink(p)
	}
	fd, err := v.jumpFD(p)
	if ended(err) && v.goneCwd != "" {
		return v.goneLink(p)
	}
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	return fdPath(fd)
}

// goneLink is where the magic link p of a process that has ended led, for the kernel's
// refusals read after their calls (goneCwd set): every process of the sandbox shares its root
// (none may chroot), so root is "/"; cwd is taken to be goneCwd (guessed); any other link
// (a descriptor) is lost with the process.
func (v *agentView) goneLink(p string) (string, error) {
	dir, name := path.Split(p)
	if goneProcDir(dir) {
		switch name {
		case "root":
			return "/", nil
		case "cwd":
			v.guessed = true
			return v.goneCwd, nil
		}
	}
	return "", errNotAPath
}

// ended reports whether err, from a lookup in a process's /proc directory, says that the
// process has ended (ENOENT) or is ending: the kernel answers ESRCH for the magic links of a
// process whose exit has begun but which /proc still shows (the sandbox's PID 1 as the run
// ends, while the refusals of its last processes are read).
func ended(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH)
}

// goneProcDir reports whether dir is /proc/PID/ or /proc/PID/task/TID/.
func goneProcDir(dir string) bool {
	rest, ok := strings.CutPrefix(dir, "/proc/")
	if !ok {
		return false
	}
	f := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	digits := func(s string) bool {
		_, err := strconv.ParseUint(s, 10, 32)
		return err == nil
	}
	return (len(f) == 1 && digits(f[0])) || (len(f) == 3 && digits(f[0]) && f[1] == "task" && digits(f[2]))
}

func (v *agentView) jumpFD(p string) (int, error) {
	dir, name := path.Split(p)
	dfd, err := v.open(dir, unix.O_DIRECTORY)
	if err != nil {
		return -1, err
	}
	defer unix.Close(dfd)
	var fs unix.Statfs_t
	if err := unix.Fstatfs(dfd, &fs); err != nil || fs.Type != unix.PROC_SUPER_MAGIC {
		return -1, errNotAPath // only a procfs's links are followed as objects
	}
	defer v.called()
	return unix.Openat(dfd, name, unix.O_PATH|unix.O_CLOEXEC, 0)
}

// fdPath is the path of what descriptor fd refers to, as agentrun's /proc shows it: for an
// object in the sandbox's mount namespace, its path there. errNotAPath for a pipe, a socket,
// an anonymous inode or a deleted file.
func fdPath(fd int) (string, error) {
	p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, " (deleted)") {
		return "", errNotAPath
	}
	return p, nil
}

// nsIDs reads thread tid's pid and tid in its own (innermost) PID namespace, as its
// /proc/self and /proc/thread-self name them: "PID" and "PID/task/TID".
func nsIDs(tid int) (self, threadSelf string, err error) {
	b, err := readProcFile("/proc/"+strconv.Itoa(tid)+"/status", 0)
	if err != nil {
		return "", "", err
	}
	var tgid, pid string
	for _, line := range strings.Split(string(b), "\n") {
		key, val, _ := strings.Cut(line, ":")
		f := strings.Fields(val)
		if len(f) == 0 {
			continue
		}
		switch key {
		case "NStgid":
			tgid = f[len(f)-1]
		case "NSpid":
			pid = f[len(f)-1]
		}
	}
	if tgid == "" || pid == "" {
		return "", "", errNotAPath
	}
	return tgid, tgid + "/task/" + pid, nil
}

func readlinkFD(fd int) (string, error) { return readlinkAt(fd, "") }

func readlinkAt(dfd int, name string) (string, error) {
	buf := make([]byte, maxPathLen)
	n, err := unix.Readlinkat(dfd, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// resolved is a path an agent's call names, resolved in its view.
type resolved struct {
	path   string // canonical, in the agent's view
	exists bool
	dir    bool
	// dev and mode are the object's (for a missing one, its directory's dev): they say
	// whether it is on one of the sandbox's own file systems.
	dev  uint64
	mode uint32
	st   unix.Stat_t // with keep, the object's status (an exec's version: see needsCaller)
	fd   int         // with keep: an O_PATH descriptor of the object, else -1
	// err is why the walk stopped (the call fails, but for errTooComplex: see maxSteps).
	err error
}

// resolve makes full (absolute, as eventPath made it) canonical in the view, following a
// symlink in its last element when follow says the call does. keep asks for an O_PATH
// descriptor of what it names. Most paths have no symlink: one openat2 that refuses them all
// finds those; the others are walked a step at a time.
func (v *agentView) resolve(full string, follow, keep bool) resolved {
	r := resolved{fd: -1}
	if plain(full) {
		fd, err := v.openFast(full, follow)
		if err == nil {
			r.path = path.Clean(full)
			v.fill(&r, fd, keep)
			return r
		}
		if err == unix.ENOENT && path.Clean(full) == full && v.missingLeaf(&r, full) {
			return r
		}
	}
	return v.walkResolve(full, follow, keep)
}

// missingLeaf completes r for full (clean: no "." or ".." the kernel would need the missing
// element to pass through), which the fast lookup found missing, when what is missing is its
// last element, as for every file a call creates: the lookup stopped at an element that is
// not there, every element before it was there and none was a symlink (that is ELOOP), so
// when full's directory opens the same way, the walk would find the same: full missing, in
// that directory. It reports whether it did.
func (v *agentView) missingLeaf(r *resolved, full string) bool {
	dev, mode, ok := v.dirStat(path.Dir(full))
	if ok {
		r.path, r.dev, r.mode = full, dev, mode
	}
	return ok
}

// dirStat is the device and mode of dir (canonical in the view), a directory: where a
// missing path would be created, whose device says whose it is.
func (v *agentView) dirStat(dir string) (dev uint64, mode uint32, ok bool) {
	fd, err := v.open(dir, unix.O_DIRECTORY)
	if err != nil {
		return 0, 0, false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return 0, 0, false
	}
	return st.Dev, st.Mode, true
}

// walkResolve is resolve by walking full element by element (see walkPath), for the paths
// one lookup cannot settle: symlinks, "..", a missing directory on the way.
func (v *agentView) walkResolve(full string, follow, keep bool) resolved {
	r := resolved{fd: -1}
	w, err := walkPath(v, full, follow)
	r.path, r.err = w.path, err
	if err == nil && w.kind != nodeMissing {
		if fd, err := v.open(w.path, 0); err == nil {
			v.fill(&r, fd, keep)
		}
		return r
	}
	if err == nil && w.parentOK {
		r.dev, r.mode, _ = v.dirStat(path.Dir(w.path))
	}
	return r
}

// openFast opens full with one openat2 that follows no symlink at all.
func (v *agentView) openFast(full string, follow bool) (int, error) {
	extra := 0
	if !follow {
		extra = unix.O_NOFOLLOW
	}
	defer v.called()
	return openat2Retry(v.root, full, unix.O_PATH|unix.O_CLOEXEC|extra, inRoot|unix.RESOLVE_NO_SYMLINKS)
}

// fill completes r from fd, an O_PATH descriptor of the object, which it keeps or closes.
func (v *agentView) fill(r *resolved, fd int, keep bool) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return
	}
	r.exists, r.dir, r.dev, r.mode = true, st.Mode&unix.S_IFMT == unix.S_IFDIR, st.Dev, st.Mode
	if keep {
		r.st = st
		r.fd = fd
		return
	}
	unix.Close(fd)
}

// plain reports whether full can be looked up in one step: absolute, not ending in a
// slash, "." or "..", where the walk's rules for the last element differ.
func plain(full string) bool {
	return strings.HasPrefix(full, "/") && !strings.HasSuffix(full, "/") && !strings.HasSuffix(full, "/.") && !strings.HasSuffix(full, "/..")
}
