// Package kdenials records the file system calls of one sandbox that the kernel refused, from
// the kernel itself: a BPF program on the raw_syscalls/sys_exit tracepoint, written as
// instructions (no compiler), keeps only the calls of one PID namespace that failed with one of a few errnos,
// and hand them, with their path arguments, to agentrun through a ring buffer. It sees the
// denials that leave no LSM record (a mode-000 deny mount, a read-only bind) as well as
// Landlock's. Loading it needs root (or CAP_BPF and CAP_PERFMON); it exists on Linux only.
package kdenials
