//go:build cgo && seccomp

package linux

// seccompBuilt is true when this binary was built with libseccomp (-tags seccomp).
const seccompBuilt = true
