package linux

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/rootfs"
)

// idmapProbe tells, on the host and before the stage builds the root, which trees can be
// idmapped: it makes the idmapping's user namespace once and, for each tree, idmaps a
// detached copy of it (every mount beneath it too, as the stage's bind does), which it then
// drops. Nothing is attached anywhere. agentrun must be root in the host's PID namespace: the
// namespace's maps are written through the host's /proc.
type idmapProbe struct {
	userns int
}

func newIDMapProbe(m rootfs.IDMapping) (*idmapProbe, error) {
	proc, err := rootfs.OpenProc("/proc")
	if err != nil {
		return nil, fmt.Errorf("the idmapping probe needs the host's /proc: %w", err)
	}
	defer unix.Close(proc)
	ns, err := rootfs.NewIDMapUserns(proc, m)
	if err != nil {
		return nil, err
	}
	return &idmapProbe{userns: ns}, nil
}

func (p *idmapProbe) close() { unix.Close(p.userns) }

// errNoTree is a tree the host does not have: the stage skips its bind, or fails on it.
var errNoTree = errors.New("no such tree")

// supports reports whether the tree at path, opened without following links, can be idmapped;
// its error is errNoTree when the host has no such path, unix.ELOOP when a link is on the way.
func (p *idmapProbe) supports(path string) (bool, error) {
	at, err := rootfs.OpenNoLinks(path, unix.O_PATH)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return false, errNoTree
		}
		return false, err
	}
	defer unix.Close(at)
	tree, err := unix.OpenTree(at, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE|unix.AT_EMPTY_PATH)
	if err != nil {
		return false, fmt.Errorf("cloning %s for the idmapping probe: %w", path, err)
	}
	defer unix.Close(tree)
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(p.userns)}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, attr); err != nil {
		return false, nil
	}
	return true, nil
}

// idmapsSurely reports whether the tree at path is on a file system that has idmapped mounts
// on every kernel agentrun runs on (5.12+: ext2/3/4 and XFS), so that the probe, which costs
// a process, can be skipped; a mount of another type beneath it still fails the stage's bind,
// which stops the run.
func idmapsSurely(path string) bool {
	fd, err := rootfs.OpenNoLinks(path, unix.O_PATH)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var st unix.Statfs_t
	if unix.Fstatfs(fd, &st) != nil {
		return false
	}
	return st.Type == unix.EXT4_SUPER_MAGIC || st.Type == unix.XFS_SUPER_MAGIC
}
