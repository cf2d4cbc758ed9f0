// Package kopens is a feasibility spike: a tp_btf program on sys_exit that records, for the
// successful opens of one PID namespace, the opened file's path as the opener sees it, walked
// from current->files->fdt->fd[ret] through dentries and mounts with BTF offsets looked up
// at load time. Not wired into agentrun.
package kopens
