//go:build linux && !amd64 && !arm64

package kdenials

const archSupported = false

// argOffsets is unknown here: Load and Available refuse this architecture.
var argOffsets [6]int16

const nrOffset = 0

var legacyCalls []Call
