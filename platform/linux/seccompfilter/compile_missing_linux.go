//go:build !cgo || !seccomp

package seccompfilter

// Compile needs libseccomp: see compile_linux.go.
func Compile(Spec) (*Program, error) { return nil, ErrNotBuilt }
