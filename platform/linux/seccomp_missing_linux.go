//go:build !cgo || !seccomp

package linux

// seccompBuilt is false: this binary was built without libseccomp (-tags seccomp).
const seccompBuilt = false
