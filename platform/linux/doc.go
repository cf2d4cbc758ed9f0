// Package linux confines an agent on Linux: a container made with runc's libcontainer (mount,
// PID, IPC, UTS and network namespaces, cgroups, no capabilities, no_new_privs, seccomp) whose
// root is the host's view rebuilt from bind mounts, and inside it a small stage that applies a
// Landlock ruleset mirroring the policy before it starts the agent. The mechanisms it applies
// have packages of their own: the mount plan in platform/fsplan, AppArmor in
// platform/linux/apparmor, the seccomp notifier and the file judge in platform/linux/fileaudit.
package linux
