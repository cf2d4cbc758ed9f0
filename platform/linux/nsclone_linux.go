package linux

import (
	"fmt"
	"os"
	"strconv"
)

// cloneIntoNamespacesHere says whether a rootless stage may be started the cheap way
// (cloneIntoNamespaces) on this host: on amd64, where Yama lets a process trace the child it
// starts (ptrace_scope below 2), and where AppArmor does not restrict user namespaces to the
// programs its profiles allow (the clone is the stage binary's, which `agentrun setup`'s profile
// does not name). Elsewhere Go forks agentrun for it, as before; the sandbox is the same.
func cloneIntoNamespacesHere() bool {
	if !cloneArch {
		return false
	}
	if n, ok := readInt("/proc/sys/kernel/yama/ptrace_scope"); ok && n >= 2 {
		return false
	}
	if n, ok := readInt("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"); ok && n == 1 {
		return false
	}
	return true
}

// writeSelfMaps maps, in pid's new user namespace, the user and group agentrun runs as to
// themselves, as Go's fork does for the stage (setgroups denied: an unprivileged writer may
// map its own group only then).
func writeSelfMaps(pid, uid, gid int) error {
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	for _, f := range []struct{ name, data string }{
		{"setgroups", "deny"},
		{"uid_map", fmt.Sprintf("%d %d 1\n", uid, uid)},
		{"gid_map", fmt.Sprintf("%d %d 1\n", gid, gid)},
	} {
		if err := os.WriteFile(dir+f.name, []byte(f.data), 0); err != nil {
			return fmt.Errorf("writing the stage's %s: %w", f.name, err)
		}
	}
	return nil
}
