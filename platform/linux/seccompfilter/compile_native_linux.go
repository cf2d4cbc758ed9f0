//go:build !amd64 && cgo && seccomp

package seccompfilter

// Built is true: this binary compiles the filters with libseccomp when it runs (no programs
// are generated for this architecture: see programs_linux_amd64.go).
const Built = true

// Compile is the filter of s, compiled now by libseccomp.
func Compile(s Spec) (*Program, error) { return compileLibseccomp(s) }
