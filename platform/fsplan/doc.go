// Package fsplan plans the sandbox's view of the file system: which host paths are bound
// read-only, read-write, protected or hidden, in which order, which of them lose exec, and
// which directories are pinned so protected paths cannot be moved. It is pure (a StatFunc
// stands for the host), so it is tested on every OS; platform/linux applies the plan.
package fsplan
