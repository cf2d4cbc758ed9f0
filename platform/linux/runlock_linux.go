package linux

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// A run holds its lock file in the state root, ID.lock, for as long as it lives: the kernel
// lets go of the lock when the process dies, however it dies. The file records the run's
// cgroup directories and the ACL grants made for its agent (see grantUnmappable). The sandbox itself leaves nothing else on the host: its root is a tmpfs
// in its own mount namespace, gone with its last process.

// lockRun creates and locks run id's lock file; with wait false it fails at once when another
// process holds it.
func lockRun(root, id string, wait bool) (*os.File, error) {
	path := filepath.Join(root, id+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	for try := 0; wait && errors.Is(err, os.ErrNotExist) && try < 10; try++ {
		// Another run that just ended removed the (then empty) state root.
		if err = prepareStateRoot(root); err == nil {
			f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
		}
	}
	if err != nil {
		return nil, err
	}
	how := unix.LOCK_EX
	if !wait {
		how |= unix.LOCK_NB
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// unlockRun removes a run's lock file, then lets go of it.
func unlockRun(root, id string, lock *os.File) {
	_ = os.Remove(filepath.Join(root, id+".lock"))
	lock.Close()
}

// CleanStale removes what an agentrun killed without warning left: the ACL grants to its
// agent and the cgroups of runs whose lock can be taken (their agentrun is gone, and so is
// their sandbox), and their lock files. A run being set up or
// running is never touched.
func CleanStale(root string) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".lock")
		if !ok || !strings.HasPrefix(id, "agentrun-") {
			continue
		}
		lock, err := lockRun(root, id, false)
		if err != nil {
			continue // a live run's
		}
		content, _ := io.ReadAll(io.LimitReader(lock, 1<<20))
		revokeGrants(grantsOf(content), nil)
		removeCgroupDirs(cgroupDirsOf(content))
		unlockRun(root, id, lock)
	}
}
