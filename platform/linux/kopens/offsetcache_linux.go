//go:build linux

package kopens

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// offsetsVersion changes whenever the offsets' fields do: a cache of another version is
// parsed again.
const offsetsVersion = 2

// cachedOffsets is the file a cache of offsets holds: the kernel they were read from and
// the offsets in the order of offsets.fields.
type cachedOffsets struct {
	Version int     `json:"version"`
	Kernel  string  `json:"kernel"`
	Values  []int32 `json:"values"`
}

// fields are the offsets' fields in a fixed order, for the cache.
func (o *offsets) fields() []*int32 {
	return []*int32{&o.regsOrigAx, &o.regsSi, &o.regsDx, &o.taskPid, &o.taskFiles, &o.taskFs,
		&o.filesFdt, &o.fdtMaxFds, &o.fdtFd, &o.fsRootDentry, &o.fsRootMnt, &o.fileDentry,
		&o.fileMnt, &o.dentryParent, &o.dentryName, &o.dentryInode, &o.inodeIno,
		&o.vfsmountRoot, &o.mountMnt, &o.mountParent, &o.mountPoint}
}

// runningKernel names the running kernel's build: its release, its version (build number and
// date) and the size of its BTF. Offsets read from one build hold for it alone.
func runningKernel() (string, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", err
	}
	var st unix.Stat_t
	if err := unix.Stat("/sys/kernel/btf/vmlinux", &st); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %s %d", unix.ByteSliceToString(u.Release[:]), unix.ByteSliceToString(u.Version[:]), st.Size), nil
}

// offsetsFrom returns the offsets of the running kernel: from the cache file path when it
// holds this kernel's, else read from the kernel's BTF (≈ 30 ms) and written to path for the
// next launch. The cache is used only where nobody but this process's user can have written
// it (file and directory owned by it, writable by no one else, no symlink); path "" means no
// cache.
func offsetsFrom(path string) (offsets, error) {
	kernel, kerr := runningKernel()
	if path != "" && kerr == nil {
		if o, ok := readOffsets(path, kernel); ok {
			return o, nil
		}
	}
	o, err := loadOffsets()
	if err != nil || path == "" || kerr != nil {
		return o, err
	}
	_ = writeOffsets(path, kernel, o) // a cache that cannot be written is parsed again next time
	return o, nil
}

func readOffsets(path, kernel string) (offsets, bool) {
	dfd, err := openOwnedDir(filepath.Dir(path))
	if err != nil {
		return offsets{}, false
	}
	defer unix.Close(dfd)
	fd, err := unix.Openat(dfd, filepath.Base(path), unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return offsets{}, false
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || !ownedMode(&st) || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return offsets{}, false
	}
	var c cachedOffsets
	var o offsets
	if json.NewDecoder(f).Decode(&c) != nil || c.Version != offsetsVersion || c.Kernel != kernel || len(c.Values) != len(o.fields()) {
		return offsets{}, false
	}
	for i, p := range o.fields() {
		*p = c.Values[i]
	}
	return o, true
}

func writeOffsets(path, kernel string, o offsets) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	dfd, err := openOwnedDir(dir)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	c := cachedOffsets{Version: offsetsVersion, Kernel: kernel}
	for _, p := range o.fields() {
		c.Values = append(c.Values, *p)
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf(".%s-%d", filepath.Base(path), os.Getpid())
	fd, err := unix.Openat(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(dfd, tmp, dfd, filepath.Base(path))
	}
	if err != nil {
		_ = unix.Unlinkat(dfd, tmp, 0)
	}
	return err
}

// openOwnedDir opens dir, not following a symlink at its end, and checks that it is a
// directory of this process's user that no one else can write; the cache is then read and
// written through the descriptor, so that the directory checked is the one used.
func openOwnedDir(dir string) (int, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || !ownedMode(&st) {
		unix.Close(fd)
		return -1, errors.New("the cache directory is not this user's alone")
	}
	return fd, nil
}

func ownedMode(st *unix.Stat_t) bool {
	return int(st.Uid) == os.Geteuid() && st.Mode&0o022 == 0
}
