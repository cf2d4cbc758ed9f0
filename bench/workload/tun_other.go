//go:build !linux

package main

import "github.com/agentrun/agentrun/bench/internal/benchkit"

// userTUN: there is no /dev/net/tun to open but on Linux.
func userTUN(*benchkit.User) bool { return false }
