package linux

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// cgroupRoot is where the unified (v2) hierarchy is mounted.
const cgroupRoot = "/sys/fs/cgroup"

// launcherLeaf is the cgroup, beneath agentrun's delegated one, that agentrun moves itself
// into: cgroup v2 lets a cgroup hand controllers to its children only while it holds no
// process itself.
const launcherLeaf = "agentrun-launcher"

// delegatedControllers are the controllers the limits need.
var delegatedControllers = []string{"memory", "pids"}

// ownCgroup is this process's cgroup on the unified hierarchy, relative to its root ("/..."),
// or "" when there is none.
func ownCgroup() string {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "0::"); ok {
			return rest
		}
	}
	return ""
}

// ownCgroupWritable reports whether this process may create cgroups below its own (cgroup v2
// delegation, as systemd gives a unit with Delegate=yes).
func ownCgroupWritable() bool {
	own := ownCgroup()
	return own != "" && unix.Access(filepath.Join(cgroupRoot, own), unix.W_OK) == nil
}

// delegatedLimits reports whether an unprivileged agentrun can set limits through its
// delegated cgroup: the cgroup is writable and offers the controllers the limits need.
func delegatedLimits() bool {
	if !ownCgroupWritable() {
		return false
	}
	dir := filepath.Join(cgroupRoot, strings.TrimSuffix(ownCgroup(), "/"+launcherLeaf))
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return false
	}
	have := strings.Fields(string(b))
	for _, c := range delegatedControllers {
		if !contains(have, c) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// prepareDelegated readies the delegated cgroup for rootless containers and returns it
// (relative to the hierarchy's root): agentrun moves itself into a leaf beneath it and turns
// on the memory and pids controllers for its children, where each run's container gets its
// own cgroup. It fails when another process shares the delegated cgroup (it cannot hand out
// controllers then); the run then goes without default limits, and fails on stated ones.
func prepareDelegated() (string, error) {
	own := ownCgroup()
	if own == "" {
		return "", errors.New("no cgroup v2 membership in /proc/self/cgroup")
	}
	deleg := strings.TrimSuffix(own, "/"+launcherLeaf)
	dir := filepath.Join(cgroupRoot, deleg)
	if own == deleg {
		leaf := filepath.Join(dir, launcherLeaf)
		if err := os.Mkdir(leaf, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("creating %s: %w", leaf, err)
		}
		// "0" moves the writing process, every thread of it.
		if err := os.WriteFile(filepath.Join(leaf, "cgroup.procs"), []byte("0"), 0); err != nil {
			return "", fmt.Errorf("moving agentrun into %s: %w", leaf, err)
		}
	}
	ctl := "+" + strings.Join(delegatedControllers, " +")
	if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte(ctl), 0); err != nil {
		return "", fmt.Errorf("enabling %s in %s (another process in it?): %w", ctl, dir, err)
	}
	return deleg, nil
}
