package stage

import (
	"errors"
	"fmt"
	"syscall"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// dropPrivileges ends the stage's power once the sandbox is built: every capability leaves the
// bounding set of this thread, the one that starts the agent (whose execve then grants
// nothing, even as uid 0); the stage becomes the agent's user when agentrun ran as root; the
// ambient, effective, permitted and inheritable sets are emptied on every thread (a thread
// without permitted capabilities has no way back to them short of an execve, which replaces
// the whole stage); and no_new_privs is set, so that no set-user-ID program or file
// capability gives any back.
func dropPrivileges(s *Sandbox) error {
	for c := uintptr(0); c < 64; c++ {
		err := unix.Prctl(unix.PR_CAPBSET_DROP, c, 0, 0, 0)
		if errors.Is(err, unix.EINVAL) {
			break // past the kernel's last capability
		}
		if err != nil {
			return fmt.Errorf("dropping capability %d from the bounding set: %w", c, err)
		}
	}
	if s.SetUser {
		// The syscall package changes every thread's IDs.
		if err := syscall.Setgroups(s.Groups); err != nil {
			return fmt.Errorf("setting the agent's groups: %w", err)
		}
		if err := syscall.Setresgid(s.GID, s.GID, s.GID); err != nil {
			return fmt.Errorf("becoming group %d: %w", s.GID, err)
		}
		if err := syscall.Setresuid(s.UID, s.UID, s.UID); err != nil {
			return fmt.Errorf("becoming user %d: %w", s.UID, err)
		}
	}
	// Becoming a user other than root has emptied the permitted, effective and ambient sets
	// of every thread (the kernel's set-user-ID fixup); the inheritable set stays as it was.
	// Every thread has the credentials of this one (none has changed its own: the bounding
	// set, per thread, plays no part), so where this thread shows all of them empty, the two
	// calls that would empty them again on each thread are skipped — each stops and signals
	// every thread of the stage (TestStageDropsCapabilities reads each thread's sets).
	// Rootless, or as root with --as-root, the sets are full and both run.
	if !capsEmpty() {
		if err := ll.AllThreadsPrctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
			return fmt.Errorf("clearing ambient capabilities: %w", err)
		}
		if err := clearCapabilities(); err != nil {
			return fmt.Errorf("dropping the stage's capabilities: %w", err)
		}
	}
	// A change of user makes the process dumpable again: the agent, as that user, must not
	// read or write PID 1's memory.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("making the stage non-dumpable: %w", err)
	}
	if err := ll.AllThreadsPrctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("setting no_new_privs: %w", err)
	}
	return nil
}
