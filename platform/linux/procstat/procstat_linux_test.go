package procstat

import (
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// TestParse: the name may hold spaces and parentheses, which a parser splitting on the first
// ')' or on spaces gets wrong; truncated or malformed contents are refused.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Stat
		ok   bool
	}{
		{"12 (sh) S 1 12 7 0 -1", Stat{Comm: "sh", PPid: 1, Pgrp: 12, Session: 7}, true},
		{"13 (a) b (c)) R 12 13 7 34816", Stat{Comm: "a) b (c)", PPid: 12, Pgrp: 13, Session: 7}, true},
		{"14 (x) S 1 14", Stat{}, false},
		{"15 x S 1 15 7", Stat{}, false},
		{"16 (x) S one 16 7", Stat{}, false},
	} {
		got, ok := Parse([]byte(tc.in))
		if ok != tc.ok || got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestAll: a real child, named with a space and a parenthesis, is found with this process as
// its parent and its own group and session as the kernel reports them.
func TestAll(t *testing.T) {
	dir := t.TempDir()
	prog := dir + "/x) (y"
	if err := os.Symlink("/bin/sleep", prog); err != nil {
		t.Fatal(err)
	}
	c := exec.Command(prog, "30")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Process.Kill(); _ = c.Wait() }()
	s, ok := All()[c.Process.Pid]
	if !ok {
		t.Fatal("the child is not in All")
	}
	sid, _ := unix.Getsid(0)
	want := Stat{Comm: "x) (y", PPid: os.Getpid(), Pgrp: unix.Getpgrp(), Session: sid}
	if s != want {
		t.Errorf("the child: %+v, want %+v", s, want)
	}
}
