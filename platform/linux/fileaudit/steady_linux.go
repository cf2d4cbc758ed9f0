package fileaudit

import (
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/profiles"
)

// steadyPaths says which paths of the sandbox's view the sandbox cannot make lead elsewhere:
// a refusal of one that was judged to be nothing (quietRefusals) can then be passed over by
// the kernel's recorder itself, where no lookup checks each repeat (stillAsWritten). A path
// is steady when it is written as it resolves (absolute, clean, no symlink on the way: the
// caller checks the last) and each of its directories that exists, and the object itself if
// it exists, is on a mount the sandbox cannot write through, of a file system no mount of the
// view writes beneath it: only those could gain or change the entry that the path's next
// element names. The mount table is the stage's (the sandbox cannot mount: no capability, no
// user namespace of its own), read again after quietFor, as the host's mounts may propagate.
// The caller serializes its use (Observer.passOver holds refusals.mu).
type steadyPaths struct {
	read   time.Time
	mounts map[int]*mountinfo.Info // by mount ID
	// writable are the mounts the sandbox can write through (the mount's and the file
	// system's options both rw).
	writable []*mountinfo.Info
	dirs     map[string]bool // the answers for objects looked up since read
}

// steadyTypes are the file systems whose contents change only through their own mounts: not
// an overlay (its layers are directories of other file systems), nor FUSE or a network file
// system (served by someone else).
var steadyTypes = map[string]bool{
	"ext2": true, "ext3": true, "ext4": true, "xfs": true, "btrfs": true, "tmpfs": true,
	"f2fs": true, "bcachefs": true, "zfs": true,
}

// steady reports whether name, a path of a refusal that the judge passed over, is steady in
// the view v of the sandbox whose stage (PID 1) is stagePid on the host.
func (s *steadyPaths) steady(v *agentView, stagePid int, name string) bool {
	if !strings.HasPrefix(name, "/") || path.Clean(name) != name || stagePid <= 0 {
		return false
	}
	if s.mounts == nil || time.Since(s.read) >= quietFor {
		if !s.readMounts(stagePid) {
			return false
		}
	}
	p := "/"
	for _, elem := range append([]string{""}, strings.Split(name[1:], "/")...) {
		p = path.Join(p, elem)
		ok, known := s.dirs[p]
		if !known {
			var exists bool
			ok, exists = s.steadyObject(v, p)
			if !exists {
				return ok // nothing beneath it exists either: its directory said
			}
			s.dirs[p] = ok
		}
		if !ok {
			return false
		}
	}
	return true
}

func (s *steadyPaths) readMounts(stagePid int) bool {
	f, err := os.Open("/proc/" + strconv.Itoa(stagePid) + "/mountinfo")
	if err != nil {
		s.mounts = nil
		return false
	}
	infos, err := mountinfo.GetMountsFromReader(f, nil)
	f.Close()
	if err != nil {
		s.mounts = nil
		return false
	}
	s.mounts = make(map[int]*mountinfo.Info, len(infos))
	s.writable = s.writable[:0]
	for _, m := range infos {
		s.mounts[m.ID] = m
		if !hasOption(m.Options, "ro") && !hasOption(m.VFSOptions, "ro") { // both rw
			s.writable = append(s.writable, m)
		}
	}
	s.dirs = map[string]bool{}
	s.read = time.Now()
	return true
}

// steadyObject looks p up in the view, following no symlink: ok when no writable mount of its
// file system holds it — its own mount among them, were that writable. exists is false, with
// ok true, when p is missing (its directory was steady, so it cannot come).
func (s *steadyPaths) steadyObject(v *agentView, p string) (ok, exists bool) {
	fd, err := v.open(p, 0)
	if err == unix.ENOENT {
		return true, false
	}
	if err != nil {
		return false, true
	}
	defer unix.Close(fd)
	var st unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID|unix.STATX_TYPE, &st); err != nil ||
		st.Mask&unix.STATX_MNT_ID == 0 || st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return false, true
	}
	m := s.mounts[int(st.Mnt_id)]
	if m == nil || !steadyTypes[m.FSType] {
		return false, true
	}
	rel := strings.TrimPrefix(p, m.Mountpoint)
	if rel != "" && rel[0] != '/' && m.Mountpoint != "/" {
		return false, true // not beneath its own mount point: the table has changed
	}
	inFS := path.Join(m.Root, "/"+rel) // where p is in its file system
	for _, w := range s.writable {
		if w.Major == m.Major && w.Minor == m.Minor && profiles.Within(inFS, w.Root) {
			return false, true
		}
	}
	return true, true
}

// hasOption reports whether the comma-separated options hold opt.
func hasOption(options, opt string) bool {
	return slices.Contains(strings.Split(options, ","), opt)
}
