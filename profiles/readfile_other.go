//go:build !unix

package profiles

const nonBlock = 0
