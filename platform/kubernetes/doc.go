// Package kubernetes compiles a policy to Kubernetes objects that run one command under the
// same policy on a cluster (agentrun compile --target kubernetes). It is pure and builds on
// every OS; the seccomp filter and the AppArmor profile it ships come from the Linux
// backend's own compilers, handed in as text.
//
// What it maps:
//
//	processes     a Job (or a Pod): non-root uid, no privilege escalation, every capability
//	              dropped, read-only root filesystem, no service-account token, the seccomp
//	              filter and the AppArmor profile as Localhost profiles
//	seccomp       the filter as a node file (in a ConfigMap) and as a Security Profiles
//	              Operator SeccompProfile; rules that need agentrun's notifier become errno
//	              rules (the kernel alone decides on the cluster)
//	AppArmor      the profile text as a node file (in the same ConfigMap), and the policy's
//	              allow lists as an SPO AppArmorProfile (which cannot say deny rules)
//	filesystem    the workspace as a volume, an emptyDir for every other write root; reads,
//	              denials and protected paths only through AppArmor
//	resources     memory and cpu as container limits
//	egress        a NetworkPolicy (DNS and the profile's CIDRs) and a CiliumNetworkPolicy
//	              (names through Cilium's DNS proxy, cloud metadata denied)
//	env           the variables the profile sets
//
// What it cannot map, each said in a comment of the output: the pids limit (a kubelet
// setting), env.pass (there is no caller's environment on a cluster), names in a plain
// NetworkPolicy, the unix-socket gate and file events (agentrun's notifier), Landlock, the
// review of written files, and agentrun's events and audit mode records.
package kubernetes
