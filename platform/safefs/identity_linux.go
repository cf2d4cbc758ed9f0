//go:build linux

package safefs

import (
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"sort"

	"golang.org/x/sys/unix"
)

// AsUser runs fn with id's file-system identity: on a thread of its own, locked and never
// returned to the runtime, whose fsuid, fsgid and supplementary groups are id's (raw
// per-thread system calls; the rest of the process keeps its identity). Changing the fsuid
// away from 0 also drops that thread's file capabilities (CAP_DAC_OVERRIDE, CAP_FOWNER, …),
// so fn can do only what the user could. With a nil id, or id equal to the process's own
// identity, fn runs as it is.
func AsUser(id *Identity, fn func() error) error {
	if id == nil || (id.UID == os.Geteuid() && id.GID == os.Getegid()) {
		return fn()
	}
	done := make(chan error, 1)
	go func() {
		// The thread's credentials differ from the process's: it must never run other
		// goroutines, so it stays locked and exits with this goroutine.
		runtime.LockOSThread()
		if err := become(id); err != nil {
			done <- err
			return
		}
		done <- fn()
	}()
	return <-done
}

func become(id *Identity) error {
	groups := slices.Clone(id.Groups)
	if len(groups) == 0 {
		groups = []int{id.GID}
	}
	if err := unix.Setgroups(groups); err != nil {
		return fmt.Errorf("taking the groups of uid %d: %w", id.UID, err)
	}
	unix.Setfsgid(id.GID)
	unix.Setfsuid(id.UID)
	// setfsuid reports the previous value, never an error that means anything: ask again.
	if prev, _ := unix.SetfsuidRetUid(-1); prev != id.UID {
		return fmt.Errorf("taking the file-system identity of uid %d: it stayed %d", id.UID, prev)
	}
	if prev, _ := unix.SetfsgidRetGid(-1); prev != id.GID {
		return fmt.Errorf("taking the file-system identity of gid %d: it stayed %d", id.GID, prev)
	}
	return nil
}

func sortEntries(ents []fs.DirEntry) {
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
}
