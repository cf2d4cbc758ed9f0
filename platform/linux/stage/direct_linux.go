package stage

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/procstat"
)

// killDescendants ends, in the direct tier, what the agent left behind: its process group,
// and every process reparented to the stage (a child subreaper) however it got there.
func killDescendants(agentPgid int) {
	_ = unix.Kill(-agentPgid, unix.SIGKILL)
	KillChildren()
}

// KillChildren kills and reaps every child of this process, over and over until none is left
// (a child may still fork, or have orphans reparented to us, while we go): this process is a
// child subreaper, so whatever its descendants left running ends up here.
func KillChildren() {
	self := os.Getpid()
	for round := 0; round < 50; round++ {
		found := false
		for pid, st := range procstat.All() {
			if st.PPid == self {
				found = true
				_ = unix.Kill(pid, unix.SIGKILL)
				var ws unix.WaitStatus
				_, _ = unix.Wait4(pid, &ws, 0, nil)
			}
		}
		if !found {
			return
		}
	}
}

// applyDirect is what the container would have done, for the direct tier: no core dumps, and
// TCP cut off when the policy has no network (the filter follows: see confineAndHandOver).
func applyDirect(cfg *Config) error {
	// No core dumps full of secrets, as the container's rlimits say.
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return fmt.Errorf("turning off core dumps: %w", err)
	}
	if cfg.NoNetwork {
		c, err := landlockConfig(cfg.RequireLandlock, 4, "TCP rules (Linux 6.7+)")
		if err != nil {
			return err
		}
		if err := c.RestrictNet(); err != nil {
			return fmt.Errorf("cutting off TCP with Landlock: %w", err)
		}
	}
	return nil
}
