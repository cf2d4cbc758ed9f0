//go:build linux

package safefs

import "syscall"

type syscallStat = syscall.Stat_t
