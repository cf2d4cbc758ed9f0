package launcher

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/profiles"
)

// checkInherited refuses a standard stream that would hand the agent what its view hides.
// The agent inherits agentrun's standard descriptors as they are, and a descriptor reaches
// its file whatever is mounted: a directory (`agentrun -- sh < ~/.ssh`) opens everything
// beneath it through /proc/self/fd/0/ (runc's CVE-2024-21626 class), a denied file is read
// through it, a protected one written. Pipes, sockets, terminals and other files pass.
func checkInherited(pol *profiles.Policy, stdio Stdio) error {
	streams := []struct {
		name, redirect string
		v              any
	}{{"standard input", "<", stdio.Stdin}, {"standard output", ">", stdio.Stdout}, {"standard error", "2>", stdio.Stderr}}
	for _, s := range streams {
		f, ok := s.v.(*os.File)
		if !ok || f == nil {
			continue
		}
		fd, err := descriptor(f)
		if err != nil {
			return fmt.Errorf("checking agentrun's %s: %w", s.name, err)
		}
		if err := checkDescriptor(pol, fd); err != nil {
			return fmt.Errorf("agentrun's %s (%s) %w", s.name, s.redirect, err)
		}
	}
	return nil
}

// descriptor is f's descriptor number, without File.Fd's switch to blocking mode.
func descriptor(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	fd := -1
	if err := rc.Control(func(u uintptr) { fd = int(u) }); err != nil {
		return 0, err
	}
	return fd, nil
}

// checkDescriptor judges one descriptor the agent would inherit.
func checkDescriptor(pol *profiles.Policy, fd int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil // closed: nothing is handed over
	}
	path, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return fmt.Errorf("is the directory %s: through /proc/self/fd the agent could open every file beneath it, whatever the profile denies; redirect a file, not a directory", path)
	}
	path = strings.TrimSuffix(path, " (deleted)")
	if !filepath.IsAbs(path) {
		return nil // a pipe, socket or anonymous inode
	}
	if d := pol.CheckFile(path, profiles.AccessRead); !d.Allow && strings.HasPrefix(d.Rule, "filesystem.deny") {
		return fmt.Errorf("is %s, which the profile denies (%s): the agent could read it through the descriptor; leave it out of the command line's redirections", path, d.Rule)
	}
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err == nil && flags&unix.O_PATH == 0 && flags&unix.O_ACCMODE != unix.O_RDONLY {
		if d := pol.CheckFile(path, profiles.AccessWrite); !d.Allow && strings.HasPrefix(d.Rule, "filesystem.protect") {
			return fmt.Errorf("is %s, open for writing, which the profile protects (%s): the agent could change it through the descriptor; redirect into another file", path, d.Rule)
		}
	}
	return nil
}
