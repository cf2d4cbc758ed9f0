package linux

import (
	"errors"
	"fmt"
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
// process holds it. The lock it returns is on the file at the path: CleanStale, in another
// run, removes a lock file it could lock, and it may have taken this one between its creation
// and its lock, when it looked like a dead run's.
func lockRun(root, id string, wait bool) (*os.File, error) {
	path := filepath.Join(root, id+".lock")
	for try := 0; ; try++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
		if wait && errors.Is(err, os.ErrNotExist) && try < maxRaceTries {
			// Another run that just ended removed the (then empty) state root.
			if err := prepareStateRoot(root); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		raced("lock created")
		how := unix.LOCK_EX
		if !wait {
			how |= unix.LOCK_NB
		}
		if err := unix.Flock(int(f.Fd()), how); err != nil {
			f.Close()
			return nil, err
		}
		if stillAt(f, path) {
			return f, nil
		}
		f.Close()
		if !wait || try >= maxRaceTries {
			return nil, fmt.Errorf("%s: removed by another run while it was being locked", path)
		}
	}
}

// maxRaceTries bounds the retries of lockRun and of making the state root: each needs another
// run to remove the state root or the lock file meanwhile.
const maxRaceTries = 10

// betweenSteps, in tests, runs where another run may race this one (at the named step): the
// state root made and not yet checked, a lock file created and not yet locked.
var betweenSteps func(step string)

func raced(step string) {
	if betweenSteps != nil {
		betweenSteps(step)
	}
}

// stillAt reports whether f is the file at path (not removed, not replaced).
func stillAt(f *os.File, path string) bool {
	var held, named unix.Stat_t
	if unix.Fstat(int(f.Fd()), &held) != nil || unix.Lstat(path, &named) != nil {
		return false
	}
	return held.Dev == named.Dev && held.Ino == named.Ino
}

// unlockRun removes a run's lock file, then lets go of it.
func unlockRun(root, id string, lock *os.File) {
	_ = os.Remove(filepath.Join(root, id+".lock"))
	lock.Close()
}

// CleanStale removes what an agentrun killed without warning left: the ACL grants to its
// agent and the cgroups of runs whose lock can be taken (their agentrun is gone, and so is
// their sandbox), and their lock files once their cgroups are gone. A run being set up or
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
		if !removeCgroupDirs(cgroupDirsOf(content)) {
			// Still busy (a process of the dead run not yet gone): the lock file, which
			// records the cgroups, stays for the next start to try again.
			lock.Close()
			continue
		}
		unlockRun(root, id, lock)
	}
}
