package fileaudit

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/kdenials"
)

// TestQuietRefusals: a refusal judged to be nothing is passed over when the kernel reports
// the same again (call, errno, flags, paths), but only where its paths mean the same whoever
// calls: absolute, outside /proc and /dev (/proc/self, /dev/fd lead to the caller's own).
func TestQuietRefusals(t *testing.T) {
	rec := func(errno unix.Errno, paths ...string) kdenials.Record {
		r := kdenials.Record{Nr: int(unix.SYS_OPENAT), Errno: errno}
		for _, p := range paths {
			r.Paths = append(r.Paths, kdenials.Path{Name: p})
		}
		return r
	}
	var q quietRefusals
	locale := quietKey(rec(unix.ENOENT, "/usr/lib/locale/C.UTF-8/LC_CTYPE"), unix.O_RDONLY)
	q.add(locale)
	if !q.has(quietKey(rec(unix.ENOENT, "/usr/lib/locale/C.UTF-8/LC_CTYPE"), unix.O_RDONLY)) {
		t.Error("the same probe again is decoded again")
	}
	for name, key := range map[string]string{
		"another errno": quietKey(rec(unix.EACCES, "/usr/lib/locale/C.UTF-8/LC_CTYPE"), unix.O_RDONLY),
		"other flags":   quietKey(rec(unix.ENOENT, "/usr/lib/locale/C.UTF-8/LC_CTYPE"), unix.O_WRONLY),
		"another path":  quietKey(rec(unix.ENOENT, "/usr/lib/locale/C.UTF-8/LC_TIME"), unix.O_RDONLY),
		"a second path": quietKey(rec(unix.ENOENT, "/usr/lib/locale/C.UTF-8/LC_CTYPE", "/x"), unix.O_RDONLY),
		"relative":      quietKey(rec(unix.ENOENT, "LC_CTYPE"), unix.O_RDONLY),
		"/proc/self":    quietKey(rec(unix.ENOENT, "/proc/self/fd/3"), unix.O_RDONLY),
		"/dev/fd":       quietKey(rec(unix.ENOENT, "/dev/fd/3"), unix.O_RDONLY),
		"one relative":  quietKey(rec(unix.ENOENT, "/usr/x", "y"), unix.O_RDONLY),
	} {
		q.add(key)
		if key == locale {
			t.Errorf("%s: the same key as the probe", name)
		}
	}
	for _, p := range []string{"LC_CTYPE", "/proc/self/fd/3", "/dev/fd/3"} {
		if k := quietKey(rec(unix.ENOENT, p), 0); k != "" || q.has(k) {
			t.Errorf("%s: kept (%q): it means something else for each caller", p, k)
		}
	}
}
