package linux

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fs"
	"github.com/opencontainers/cgroups/fs2"

	"github.com/agentrun/agentrun/profiles"
)

// runCgroup is one run's cgroup, made by agentrun before the stage starts: on cgroup v2 the
// stage is cloned into it, on v1 agentrun moves it in before the agent starts. Only the
// controllers the limits need are used (on v1 a hierarchy each), so a run without limits has
// none.
type runCgroup struct {
	m     cgroups.Manager
	dirs  []string // every directory made, for the lock file and CleanStale
	dirFD *os.File // v2: the directory, for CLONE_INTO_CGROUP
	// stageIn: on v1 too the stage was cloned in its cgroups (see enterThread).
	stageIn bool
	mounts  map[string]string // v1: each hierarchy's mount point, by controller
	remains bool              // destroy left a directory (see destroy)
}

// newRunCgroup makes run id's cgroup, without limits yet (see setLimits): under "agentrun" in
// each hierarchy as root, or under the delegated cgroup parent (a path from the v2 root)
// rootless.
func newRunCgroup(id string, parent string) (*runCgroup, error) {
	res := cgroupResources(profiles.Resources{})
	cg := &cgroups.Cgroup{Resources: res, Rootless: parent != ""}
	c := &runCgroup{}
	if cgroups.IsCgroup2UnifiedMode() {
		if parent == "" {
			parent = "/agentrun"
		}
		dir := filepath.Join(cgroupRoot, parent, id)
		m, err := fs2.NewManager(cg, dir)
		if err != nil {
			return nil, err
		}
		c.m, c.dirs = m, []string{dir}
	} else {
		paths := map[string]string{}
		c.mounts = map[string]string{}
		for _, sub := range v1Controllers {
			mnt, err := cgroups.FindCgroupMountpoint("", sub)
			if err != nil {
				continue // a limit it would take cannot be set: setLimits says so
			}
			c.mounts[sub] = mnt
			paths[sub] = filepath.Join(mnt, "agentrun", id)
			c.dirs = append(c.dirs, paths[sub])
		}
		m, err := fs.NewManager(cg, paths)
		if err != nil {
			return nil, err
		}
		c.m = m
	}
	// -1: make the directories, move nobody. Another run that just ended may remove the
	// (then empty) "agentrun" parent between the parent's mkdir and the child's: try again.
	err := c.m.Apply(-1)
	for try := 0; errors.Is(err, os.ErrNotExist) && try < 5; try++ {
		err = c.m.Apply(-1)
	}
	if err != nil {
		c.destroy()
		return nil, fmt.Errorf("creating the sandbox's cgroup: %w", err)
	}
	if len(c.dirs) == 1 && cgroups.IsCgroup2UnifiedMode() {
		f, err := os.Open(c.dirs[0])
		if err != nil {
			c.destroy()
			return nil, fmt.Errorf("opening the sandbox's cgroup: %w", err)
		}
		c.dirFD = f
	}
	return c, nil
}

// v1Controllers are the v1 hierarchies of the limits a policy may set; the others (eight or
// so more) are left alone.
var v1Controllers = []string{"memory", "pids", "cpu"}

// setLimits sets the limits r, before the agent starts.
func (c *runCgroup) setLimits(r profiles.Resources) error {
	if err := c.m.Set(cgroupResources(r)); err != nil {
		return fmt.Errorf("setting the sandbox's limits (%s): %w", r, err)
	}
	return nil
}

func cgroupResources(r profiles.Resources) *cgroups.Resources {
	// Devices are not a cgroup matter here: the sandbox's /dev holds only bound host nodes on a
	// nodev tmpfs, and no process in it may mknod.
	res := &cgroups.Resources{SkipDevices: true}
	if r.MemoryBytes > 0 {
		res.Memory = r.MemoryBytes
		res.MemorySwap = r.MemoryBytes // no swap beyond the limit
	}
	if r.Pids > 0 {
		pids := r.Pids
		res.PidsLimit = &pids
	}
	if r.MilliCPU > 0 {
		res.CpuPeriod = 100000
		res.CpuQuota = r.MilliCPU * 100
	}
	return res
}

// join moves process pid (the stage, before it starts the agent) into the cgroup, unless the
// clone already put it there (v2, and v1 where its thread could enter the cgroups).
func (c *runCgroup) join(pid int) error {
	if c.dirFD != nil || c.stageIn {
		return nil
	}
	if err := c.m.AddPid("", pid); err != nil {
		return fmt.Errorf("moving the sandbox into its cgroup: %w", err)
	}
	return nil
}

// oomKilled reports whether the kernel killed a process of the sandbox for its memory limit.
func (c *runCgroup) oomKilled() bool {
	n, err := c.m.OOMKillCount()
	return err == nil && n > 0
}

// destroy removes the cgroup. The sandbox's processes are gone once its PID 1 has been
// reaped, but their cgroup may stay busy a little longer; one still there after RemovePath's
// wait is remembered (remains), and the run's lock file, which records it, kept for the next
// start's CleanStale.
func (c *runCgroup) destroy() {
	if c.dirFD != nil {
		c.dirFD.Close()
	}
	c.remains = !removeCgroupDirs(c.dirs)
}

// removeCgroupDirs removes a run's cgroup directories (RemovePath waits a while for one that
// is still busy), and then agentrun's parent in each hierarchy if no other run uses it. It
// reports whether none of dirs is left.
func removeCgroupDirs(dirs []string) (gone bool) {
	gone = true
	for _, d := range dirs {
		_ = cgroups.RemovePath(d)
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			gone = false
			continue
		}
		if parent := filepath.Dir(d); filepath.Base(parent) == "agentrun" {
			_ = os.Remove(parent) // fails while another run's cgroup is in it
		}
	}
	return gone
}

// lockContent records a run's cgroup directories in its lock file, for CleanStale.
func lockContent(dirs []string) []byte { return []byte(strings.Join(dirs, "\n")) }

// cgroupDirsOf reads the directories a lock file records, keeping only cgroup directories.
func cgroupDirsOf(content []byte) []string {
	var dirs []string
	for _, d := range strings.Split(string(content), "\n") {
		if d != "" && filepath.IsAbs(d) && strings.HasPrefix(filepath.Clean(d), cgroupRoot+"/") {
			dirs = append(dirs, filepath.Clean(d))
		}
	}
	return dirs
}
