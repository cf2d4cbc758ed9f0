//go:build linux && !amd64

package seccompfilter

// legacyCalls: architectures other than amd64 have only the *at forms.
var legacyCalls = map[uintptr]Call{}
