// Package linux confines an agent on Linux. agentrun starts a stage (itself, re-executed once)
// straight into new mount, PID, IPC, UTS, network and cgroup namespaces (and a user namespace
// rootless); the stage builds the sandbox's root from the mount plan on a tmpfs and pivots into
// it, names the host, brings loopback up, makes the TUN device for filtered egress, drops every
// capability, sets no_new_privs, applies AppArmor, Landlock and seccomp (the notification
// descriptor handed to agentrun), and stays PID 1 while the agent runs. Cgroups come from
// github.com/opencontainers/cgroups, the seccomp filter is compiled and loaded by libcontainer's
// seccomp package. Where namespaces cannot be had, the Landlock + seccomp tier confines the
// stage on the host instead. The mechanisms have packages of their own: the mount plan in
// platform/fsplan, AppArmor in platform/linux/apparmor, the seccomp notifier and the file judge
// in platform/linux/fileaudit.
package linux
