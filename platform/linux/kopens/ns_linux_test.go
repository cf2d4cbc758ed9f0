//go:build linux && amd64

package kopens

import (
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func namespaceOf(t testing.TB, pid int) (uint64, uint64) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/"+strconv.Itoa(pid)+"/ns/pid", &st); err != nil {
		t.Fatal(err)
	}
	return uint64(unix.Major(st.Dev))<<20 | uint64(unix.Minor(st.Dev)), st.Ino
}

func selfNamespace(t testing.TB) (uint64, uint64) { return namespaceOf(t, unix.Getpid()) }
