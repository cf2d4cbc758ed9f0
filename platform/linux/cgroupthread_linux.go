package linux

import (
	"fmt"
	"path/filepath"

	"github.com/opencontainers/cgroups"
)

// enterThread moves the calling thread, which the caller has locked to its goroutine, into the
// run's v1 cgroups, so that the stage it clones next starts in them as the clone starts a v2
// stage in its cgroup. It returns leave, which moves the thread back where it was.
//
// Why a thread and not the stage: moving a process (a pid written to cgroup.procs), or any task
// but the writer itself, takes the host's cgroup threadgroup lock for writing, which waits for
// an RCU grace period (7–10 ms here) and holds every fork and exit on the host meanwhile; a
// thread that writes "0" to a tasks file moves only itself and takes no such lock (the
// kernel's cgroup_procs_write_start). The stage is multithreaded from its first instruction of
// Go, so it cannot move itself that way; the thread that forks it can.
func (c *runCgroup) enterThread() (leave func() error, err error) {
	if c.dirFD != nil {
		return nil, fmt.Errorf("cgroup v2: the stage is cloned into its cgroup")
	}
	own, err := cgroups.ParseCgroupFile("/proc/thread-self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("reading the thread's cgroups: %w", err)
	}
	var back []string // the thread's own cgroup in each hierarchy it left
	leave = func() error {
		for _, dir := range back {
			if err := cgroups.WriteFile(dir, "tasks", "0"); err != nil {
				return fmt.Errorf("moving agentrun's thread back to its cgroup %s: %w", dir, err)
			}
		}
		return nil
	}
	for sub, dir := range c.m.GetPaths() {
		mnt, ok := c.mounts[sub]
		if !ok {
			return nil, fmt.Errorf("the %s cgroup hierarchy is not the run's", sub)
		}
		home, ok := own[sub]
		if !ok {
			return nil, fmt.Errorf("agentrun's thread has no %s cgroup", sub)
		}
		if err := cgroups.WriteFile(dir, "tasks", "0"); err != nil {
			err = fmt.Errorf("moving agentrun's thread into the sandbox's cgroup %s: %w", dir, err)
			if lerr := leave(); lerr != nil {
				return nil, fmt.Errorf("%w; %w: %w", err, errThreadStuck, lerr)
			}
			return nil, err
		}
		back = append(back, filepath.Join(mnt, home))
	}
	return leave, nil
}
