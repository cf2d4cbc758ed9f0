//go:build linux

package kopens

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// offsets are the kernel's struct layouts the walk needs, in bytes, read from its BTF.
type offsets struct {
	regsOrigAx   int32 // the system call's number in pt_regs (regsNr)
	regsSi       int32 // open's flags in pt_regs (regsOpenFlags)
	regsDx       int32 // openat's flags in pt_regs (regsOpenatFlags)
	taskPid      int32 // task_struct.pid
	taskFiles    int32 // task_struct.files
	taskFs       int32 // task_struct.fs
	filesFdt     int32 // files_struct.fdt
	fdtMaxFds    int32 // fdtable.max_fds
	fdtFd        int32 // fdtable.fd
	fsRootDentry int32 // fs_struct.root.dentry
	fsRootMnt    int32 // fs_struct.root.mnt
	fileDentry   int32 // file.f_path.dentry
	fileMnt      int32 // file.f_path.mnt
	dentryParent int32 // dentry.d_parent
	dentryName   int32 // dentry.d_name.name
	dentryInode  int32 // dentry.d_inode
	inodeIno     int32 // inode.i_ino
	vfsmountRoot int32 // vfsmount.mnt_root
	mountMnt     int32 // mount.mnt (container_of)
	mountParent  int32 // mount.mnt_parent
	mountPoint   int32 // mount.mnt_mountpoint
}

func loadOffsets() (offsets, error) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return offsets{}, fmt.Errorf("loading the kernel's BTF: %w", err)
	}
	var o offsets
	var errs []error
	get := func(dst *int32, typ, path string) {
		off, err := offsetOf(spec, typ, path)
		if err != nil {
			errs = append(errs, err)
			return
		}
		*dst = int32(off)
	}
	get(&o.regsOrigAx, "pt_regs", regsNr)
	get(&o.regsSi, "pt_regs", regsOpenFlags)
	get(&o.regsDx, "pt_regs", regsOpenatFlags)
	get(&o.taskPid, "task_struct", "pid")
	get(&o.taskFiles, "task_struct", "files")
	get(&o.taskFs, "task_struct", "fs")
	get(&o.filesFdt, "files_struct", "fdt")
	get(&o.fdtMaxFds, "fdtable", "max_fds")
	get(&o.fdtFd, "fdtable", "fd")
	get(&o.fsRootDentry, "fs_struct", "root.dentry")
	get(&o.fsRootMnt, "fs_struct", "root.mnt")
	get(&o.fileDentry, "file", "f_path.dentry")
	get(&o.fileMnt, "file", "f_path.mnt")
	get(&o.dentryParent, "dentry", "d_parent")
	get(&o.dentryName, "dentry", "d_name.name")
	get(&o.dentryInode, "dentry", "d_inode")
	get(&o.inodeIno, "inode", "i_ino")
	get(&o.vfsmountRoot, "vfsmount", "mnt_root")
	get(&o.mountMnt, "mount", "mnt")
	get(&o.mountParent, "mount", "mnt_parent")
	get(&o.mountPoint, "mount", "mnt_mountpoint")
	return o, errors.Join(errs...)
}

// offsetOf returns the byte offset of the dotted member path in struct typ, looking through
// anonymous structs and unions as C does.
func offsetOf(spec *btf.Spec, typ, path string) (uint32, error) {
	var s *btf.Struct
	if err := spec.TypeByName(typ, &s); err != nil {
		return 0, fmt.Errorf("struct %s: %w", typ, err)
	}
	var t btf.Type = s
	var total uint32
	for _, name := range strings.Split(path, ".") {
		off, mt, ok := member(t, name)
		if !ok {
			return 0, fmt.Errorf("struct %s has no member %s", typ, path)
		}
		total += off
		t = btf.UnderlyingType(mt)
	}
	return total, nil
}

func member(t btf.Type, name string) (uint32, btf.Type, bool) {
	var members []btf.Member
	switch c := btf.UnderlyingType(t).(type) {
	case *btf.Struct:
		members = c.Members
	case *btf.Union:
		members = c.Members
	default:
		return 0, nil, false
	}
	for _, m := range members {
		if m.Name == name {
			return m.Offset.Bytes(), m.Type, true
		}
		if m.Name == "" {
			if off, mt, ok := member(m.Type, name); ok {
				return m.Offset.Bytes() + off, mt, true
			}
		}
	}
	return 0, nil, false
}
