// Package kopens records, in the kernel, the successful opens of one PID namespace with the
// opened file's path as the opener sees it: a raw tracepoint program for sys_exit (run by the
// kernel denial recorder's program for the open calls, kdenials' Watcher.Chain, or attached on
// its own) walks current->files->fdt->fd[ret] through dentries and mounts, a bpf_loop of one
// step, into a ring buffer (struct offsets from the kernel's BTF, cached per kernel build).
// Directories agentrun has judged (Remember: the files directly in them, or everything beneath
// them) are passed over in the kernel until Forget. It is audit mode's source of reads as root:
// see docs/decisions.md, "Audit mode as root reads from the kernel, one record per directory".
// amd64 only for now (its system call numbers and registers).
package kopens
