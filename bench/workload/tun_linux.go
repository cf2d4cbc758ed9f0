package main

import (
	"syscall"

	"github.com/agentrun/agentrun/bench/internal/benchkit"
)

// userTUN reports whether u may open /dev/net/tun for reading and writing (mode 0666 on most
// distributions).
func userTUN(u *benchkit.User) bool {
	var st syscall.Stat_t
	if syscall.Stat("/dev/net/tun", &st) != nil {
		return false
	}
	switch {
	case int(st.Uid) == u.UID:
		return st.Mode&0o600 == 0o600
	case int(st.Gid) == u.GID:
		return st.Mode&0o060 == 0o060
	}
	return st.Mode&0o006 == 0o006
}
