//go:build !amd64 && cgo && seccomp

package seccompfilter

// shippedLibseccomp is "": on this architecture agentrun compiles its programs when it runs,
// with the libseccomp the tests link.
func shippedLibseccomp() string { return "" }
