package rootfs

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// rootBuilder makes the sandbox's root in a tmpfs at base, inside the stage's own mount
// namespace, from the ops the host planned. Every mount point is resolved inside the new root
// (openat2 RESOLVE_IN_ROOT, no magic links): a symlink in a bound tree cannot lead a mount out
// of it. Mount points are only ever created in agentrun's own tmpfs mounts, never in a host
// directory bound into the sandbox.
type rootBuilder struct {
	root int             // the new root, O_PATH
	base string          // where the root is, as this process's descriptors name it
	own  map[uint64]bool // devices of agentrun's tmpfs mounts
	// idmap, when set, is the idmapping of the binds marked IDMap; userns holds it once the
	// first of them is made (-1 before), or taken from pending, the one the stage started
	// making as it started (StartIDMap).
	idmap   *IDMapping
	userns  int
	pending *Pending
}

// KernelTrees are the sandbox's own /dev, /proc and /sys: a path there names something else
// on the host (another PID namespace's processes, the host's devices), and the sandbox's masks
// lie there.
var KernelTrees = []string{"/dev", "/proc", "/sys"}

// errThroughLink is a mount point reached through a symbolic link (one in a bound host tree,
// which an agent may have planted in a writable directory) that leads to nothing the sandbox
// has: the step is skipped, so that nothing of the host enters the sandbox through a link.
var errThroughLink = errors.New("the mount point is reached through a symbolic link to a path the sandbox does not have")

// Build mounts a tmpfs at base and builds the root in it; binds marked IDMap show the
// host's owners through idmap. It takes pending, if any (StartIDMap): its namespace for idmap
// when it was started for that idmapping, else closed.
func Build(base string, ops []MountOp, idmap *IDMapping, pending *Pending) error {
	b := &rootBuilder{own: map[uint64]bool{}, idmap: idmap, userns: -1}
	if pending != nil {
		pending.given.Store(true)
		if idmap != nil && *idmap == pending.m {
			b.pending = pending
		} else {
			defer pending.Close() // made for another idmapping: not waited for before the root
		}
	}
	defer func() {
		b.pending.Close() // one no bind took
		if b.userns >= 0 {
			unix.Close(b.userns)
		}
	}()
	// Nothing mounted here reaches the host; the host's later unmounts still reach us.
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("making the mount namespace a slave of the host's: %w", err)
	}
	if err := unix.Mount("tmpfs", base, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=755,size=4m"); err != nil {
		return fmt.Errorf("mounting the sandbox's root tmpfs on %s: %w", base, err)
	}
	root, err := unix.Open(base, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening the sandbox's root: %w", err)
	}
	defer unix.Close(root)
	b.root = root
	if b.base, err = os.Readlink(procFdPath(root)); err != nil {
		return fmt.Errorf("opening the sandbox's root: %w", err)
	}
	if err := b.markOwn(root); err != nil {
		return err
	}
	for _, op := range ops {
		if err := b.do(op); err != nil {
			return fmt.Errorf("building the sandbox's root: %s %s: %w", op.Kind, op.Dst, err)
		}
	}
	return nil
}

func (b *rootBuilder) markOwn(fd int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	b.own[st.Dev] = true
	return nil
}

func (b *rootBuilder) do(op MountOp) error {
	switch op.Kind {
	case OpLink:
		parent, name, err := b.parentOf(op.Dst)
		if err != nil {
			return err
		}
		defer unix.Close(parent)
		return unix.Symlinkat(op.Src, parent, name)
	case OpFile:
		parent, name, err := b.parentOf(op.Dst)
		if err != nil {
			return err
		}
		defer unix.Close(parent)
		fd, err := unix.Openat(parent, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, op.Mode)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if _, err := unix.Write(fd, []byte(op.Data)); err != nil {
			return err
		}
		return unix.Fchmod(fd, op.Mode) // the umask does not decide
	}
	target, viaLink, err := b.target(op.Dst, op.Dir)
	if err != nil {
		if errors.Is(err, errThroughLink) || op.Quiet && errors.Is(err, unix.ENOENT) {
			return nil
		}
		return err
	}
	defer unix.Close(target)
	switch op.Kind {
	case OpBind:
		if viaLink {
			return b.bindThroughLink(op, target)
		}
		return b.cloneOnto(unix.AT_FDCWD, op, target)
	case OpSelf:
		in, err := b.resolve(op.Src, unix.O_PATH)
		if err != nil {
			if op.Quiet && errors.Is(err, unix.ENOENT) {
				return nil
			}
			return err
		}
		defer unix.Close(in)
		return b.cloneOnto(in, op, target)
	case OpFS:
		if err := unix.Mount(op.Src, procFdPath(target), op.Src, uintptr(op.Flags), op.Data); err != nil {
			return err
		}
		if !op.Own {
			return nil
		}
		fd, err := b.resolve(op.Dst, unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return b.markOwn(fd)
	}
	return fmt.Errorf("unknown step %q", op.Kind)
}

// cloneOnto clones the host's tree at op.Dst (or at dir itself, when dir is a descriptor of
// it) and attaches it on target with op's flags and, for op.IDMap, the idmapping.
func (b *rootBuilder) cloneOnto(dir int, op MountOp, target int) error {
	path, flags := op.Dst, uint(unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if dir != unix.AT_FDCWD {
		path, flags = "", flags|unix.AT_EMPTY_PATH
	}
	src, err := unix.OpenTree(dir, path, flags)
	if err != nil {
		if op.Quiet && errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("cloning the tree for %s: %w", op.Dst, err)
	}
	defer unix.Close(src)
	attr := &unix.MountAttr{Attr_set: mountAttrs(op.Flags)}
	if op.IDMap {
		userns, err := b.idmapUserns()
		if err != nil {
			return err
		}
		attr.Attr_set |= unix.MOUNT_ATTR_IDMAP
		attr.Userns_fd = uint64(userns)
	}
	if err := unix.MountSetattr(src, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, attr); err != nil {
		if op.IDMap {
			return &IDMapError{Path: op.Dst, Err: err}
		}
		return fmt.Errorf("setting mount flags: %w", err)
	}
	return unix.MoveMount(src, "", target, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
}

// idmapUserns is the user namespace of the builder's idmapping, made the first time a bind
// needs it, through the sandbox's own /proc (mounted by then: see rootOps).
func (b *rootBuilder) idmapUserns() (int, error) {
	if b.pending != nil {
		// Made as the stage started; where that failed, made now through the sandbox's /proc.
		fd, err := b.pending.take()
		b.pending = nil
		if err == nil {
			b.userns = fd
		}
	}
	if b.userns >= 0 {
		return b.userns, nil
	}
	if b.idmap == nil {
		return -1, errors.New("an idmapped bind without an idmapping")
	}
	proc, err := b.sandboxProc()
	if err != nil {
		return -1, err
	}
	defer unix.Close(proc)
	if b.userns, err = NewIDMapUserns(proc, *b.idmap); err != nil {
		return -1, err
	}
	return b.userns, nil
}

// sandboxProc opens the sandbox's /proc, which must be mounted by now.
func (b *rootBuilder) sandboxProc() (int, error) {
	proc, err := b.resolve("/proc", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return -1, fmt.Errorf("opening the sandbox's /proc for the idmapping: %w", err)
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(proc, &st); err != nil || st.Type != unix.PROC_SUPER_MAGIC {
		unix.Close(proc)
		return -1, errors.New("the sandbox's /proc is not mounted before its first idmapped bind")
	}
	return proc, nil
}

// IDMapError is a bind that could not be idmapped: its file system (or one mounted beneath
// it) does not support idmapped mounts on this kernel.
type IDMapError struct {
	Path  string
	Err   error
	NoACL bool // nor POSIX ACLs, which agentrun grants instead (see platform/linux's grantUnmappable)
}

func (e *IDMapError) Error() string {
	acls := ""
	if e.NoACL {
		acls = ", nor POSIX ACLs, through which agentrun grants the agent such a tree instead"
	}
	return fmt.Sprintf("the agent user layer cannot idmap %s (%v): its file system, or one mounted beneath it, does not support idmapped mounts on this kernel (tmpfs needs Linux 6.3, overlayfs 5.19)%s; run agentrun as the user who owns the files (sudo -u USER agentrun …), or pass --as-root (AGENTRUN_AS_ROOT=1) to run the agent as root, which then reads every file root may read", e.Path, e.Err, acls)
}

func (e *IDMapError) Unwrap() error { return e.Err }

// mountAttrs turns MS_* flags into the MOUNT_ATTR_* the new mount API takes.
func mountAttrs(flags uint64) uint64 {
	var a uint64
	for ms, attr := range map[uint64]uint64{
		unix.MS_RDONLY: unix.MOUNT_ATTR_RDONLY, unix.MS_NOSUID: unix.MOUNT_ATTR_NOSUID,
		unix.MS_NODEV: unix.MOUNT_ATTR_NODEV, unix.MS_NOEXEC: unix.MOUNT_ATTR_NOEXEC,
	} {
		if flags&ms != 0 {
			a |= attr
		}
	}
	return a
}

// procFdPath names an open descriptor for the calls that take paths (mount(2)); the host's /proc
// is still there while the root is built.
func procFdPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

const resolveInRoot = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// resolve opens p, a path in the sandbox, inside the new root.
func (b *rootBuilder) resolve(p string, flags int) (int, error) {
	return b.resolveHow(p, flags, resolveInRoot)
}

func (b *rootBuilder) resolveHow(p string, flags int, how uint64) (int, error) {
	rel := strings.Trim(p, "/")
	if rel == "" {
		rel = "."
	}
	return unix.Openat2(b.root, rel, &unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: how})
}

// target opens the mount point p, creating it (and its parents) when it is missing and its
// parent is one of agentrun's own tmpfs mounts; viaLink says that p leads through a symbolic
// link inside the root. A missing mount point reached through a link is errThroughLink.
func (b *rootBuilder) target(p string, dir bool) (fd int, viaLink bool, err error) {
	// Without links first, the common case: one lookup. A lookup that fails otherwise than on
	// a link met no link before it fails, and one that follows links fails there the same.
	fd, err = b.resolveHow(p, unix.O_PATH, resolveInRoot|unix.RESOLVE_NO_SYMLINKS)
	if errors.Is(err, unix.ELOOP) {
		// Through a link inside the root.
		if fd, err = b.resolve(p, unix.O_PATH); errors.Is(err, unix.ENOENT) {
			return -1, true, errThroughLink
		}
		return fd, true, err
	}
	if err == nil || !errors.Is(err, unix.ENOENT) {
		return fd, false, err
	}
	parent, name, err := b.parentOf(p)
	if err != nil {
		return -1, false, err
	}
	defer unix.Close(parent)
	if err := b.mayCreateIn(parent); err != nil {
		return -1, false, err
	}
	if dir {
		err = unix.Mkdirat(parent, name, 0o755)
	} else {
		var f int
		if f, err = unix.Openat(parent, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644); err == nil {
			unix.Close(f)
		}
	}
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, false, err
	}
	fd, err = unix.Openat2(parent, name, &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS})
	return fd, false, err
}

// bindThroughLink binds, at a mount point a link led to, the host's own tree at that same
// path, found without following any link on the host: what the link names on the host is
// never what is bound. Over agentrun's own file systems (the sandbox's /tmp, /dev) and in the
// sandbox's /proc and /sys, where the path means something else on the host (another PID
// namespace's processes, the host's devices) and their masks lie, nothing is bound.
func (b *rootBuilder) bindThroughLink(op MountOp, target int) error {
	var st unix.Stat_t
	if err := unix.Fstat(target, &st); err != nil {
		return err
	}
	if b.own[st.Dev] {
		return nil
	}
	at, err := os.Readlink(procFdPath(target))
	if err != nil {
		return err
	}
	rel, ok := strings.CutPrefix(at, b.base+"/")
	if !ok {
		return fmt.Errorf("the mount point %s is outside the sandbox's root", at)
	}
	for _, k := range KernelTrees {
		if p := "/" + rel; p == k || strings.HasPrefix(p, k+"/") {
			return nil
		}
	}
	src, err := OpenNoLinks("/"+rel, unix.O_PATH)
	if err != nil {
		return fmt.Errorf("opening /%s on the host without following links: %w", rel, err)
	}
	defer unix.Close(src)
	return b.cloneOnto(src, op, target)
}

// parentOf opens the directory p is in, creating the missing ones on the way in agentrun's
// own tmpfs; a missing directory in a bound host tree is ENOENT.
func (b *rootBuilder) parentOf(p string) (int, string, error) {
	p = strings.Trim(p, "/")
	i := strings.LastIndexByte(p, '/')
	dir, name := "", p
	if i >= 0 {
		dir, name = p[:i], p[i+1:]
	}
	if name == "" || name == "." || name == ".." {
		return -1, "", fmt.Errorf("bad path %q", p)
	}
	fd, err := b.resolve("/"+dir, unix.O_PATH|unix.O_DIRECTORY)
	if err == nil {
		return fd, name, nil
	}
	if !errors.Is(err, unix.ENOENT) || dir == "" {
		return -1, "", err
	}
	up, dname, err := b.parentOf(dir)
	if err != nil {
		return -1, "", err
	}
	defer unix.Close(up)
	if err := b.mayCreateIn(up); err != nil {
		return -1, "", err
	}
	if err := unix.Mkdirat(up, dname, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, "", err
	}
	fd, err = unix.Openat2(up, dname, &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS})
	return fd, name, err
}

// mayCreateIn refuses to create anything in a directory that is not agentrun's own tmpfs: that
// would change the user's files on the host.
func (b *rootBuilder) mayCreateIn(dir int) error {
	var st unix.Stat_t
	if err := unix.Fstat(dir, &st); err != nil {
		return err
	}
	if !b.own[st.Dev] {
		return fmt.Errorf("a mount point is missing in a host directory: %w", unix.ENOENT)
	}
	return nil
}

// PivotInto makes base the root of this mount namespace and detaches the host's tree, then
// makes the root tmpfs read-only.
func PivotInto(base string) error {
	if err := unix.Chdir(base); err != nil {
		return fmt.Errorf("entering the sandbox's root: %w", err)
	}
	// pivot_root(".", "."): the old root ends up on top of the new one, and is then lazily
	// unmounted; no directory for it is needed.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching the host's root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return err
	}
	if err := unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		return fmt.Errorf("making the sandbox's root read-only: %w", err)
	}
	return os.Chdir("/")
}

// OpenNoLinks opens the host's path without following any link on the way (a path agentrun
// recorded or planned, never one the agent named), or fails with ELOOP.
func OpenNoLinks(path string, flags int) (int, error) {
	return unix.Openat2(unix.AT_FDCWD, path, &unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC | unix.O_NOFOLLOW),
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
}
