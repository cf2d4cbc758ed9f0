package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// scratchMount mounts a tmpfs in the fixture for the write workload, and returns its path and
// what unmounts it. On ext4, a file created soon after thousands were removed makes the inode
// allocator scan for inodes not deleted in the last half minute (recently_deleted: three
// quarters of cp's time in a profile of back-to-back copies), a cost that grows with what the
// commands before it removed, whatever confines them: on a tmpfs the workload measures the
// writes' confinement instead. The fixture's binds (bwrap --bind, agentrun's write roots) are
// recursive, so every command writes to it.
func scratchMount(dir string) (string, func(), error) {
	path := filepath.Join(dir, "scratch")
	if err := os.Mkdir(path, 0o755); err != nil {
		return "", nil, err
	}
	if err := syscall.Mount("tmpfs", path, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size=256m,mode=0755"); err != nil {
		return "", nil, fmt.Errorf("mounting a tmpfs for the write workload: %w", err)
	}
	return path, func() { _ = syscall.Unmount(path, syscall.MNT_DETACH) }, nil
}
