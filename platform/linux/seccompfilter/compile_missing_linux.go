//go:build !amd64 && (!cgo || !seccomp)

package seccompfilter

// Built is false: this architecture's filters are compiled by libseccomp when agentrun runs,
// and this binary was built without it (-tags seccomp, cgo).
const Built = false

// Compile needs libseccomp here: see compile_native_linux.go.
func Compile(Spec) (*Program, error) { return nil, ErrNotBuilt }
