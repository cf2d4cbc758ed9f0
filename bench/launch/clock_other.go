//go:build !unix

package main

import "time"

// monotonic is the wall clock, which agentrun's steps are written in where there is no
// CLOCK_MONOTONIC (platform.Step).
func monotonic() int64 { return time.Now().UnixNano() }
