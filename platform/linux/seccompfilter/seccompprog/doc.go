// Package seccompprog is a seccomp filter as the kernel takes it, and its loading on the
// calling thread: all the sandbox's stage needs of seccomp. Compiling filters is
// platform/linux/seccompfilter's, which agentrun runs; this package imports nothing of
// libcontainer's, so that the stage's binary stays small and quick to start.
package seccompprog
