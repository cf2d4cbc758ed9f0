// Package kopens records, in the kernel, the successful opens of one PID namespace with the
// opened file's path as the opener sees it: a tp_btf program on sys_exit walks
// current->files->fdt->fd[ret] through dentries and mounts (BTF offsets looked up at load
// time, names into a ring buffer, assembled in Go). It is issue 13's source for audit mode's
// reads as root (≈ 2 µs per open against the seccomp notifier's ≈ 40 µs): see docs/decisions.md,
// "Audit mode's reads from the kernel" and "Audit mode as root reads from kopens".
// amd64 only for now (its system call numbers and registers).
package kopens
