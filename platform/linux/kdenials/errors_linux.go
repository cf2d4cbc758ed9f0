package kdenials

import "errors"

// Hint is what a user can do when the recorder cannot be loaded.
const Hint = "run agentrun as root, or use --mode audit / --trace to see denials"

var (
	// ErrClosed is returned by Read after Close.
	ErrClosed = errors.New("the kernel denial recorder is closed")
	// ErrUnavailable wraps every reason Available gives.
	ErrUnavailable = errors.New("the kernel denial recorder cannot be loaded")
)
