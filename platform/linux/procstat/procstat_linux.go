// Package procstat reads what agentrun asks of processes from /proc/PID/stat: their name,
// parent, process group and session. One parser for the stage's walk of its descendants,
// the terminal relay's orphan check and the notifier's reading of a caller.
package procstat

import (
	"bytes"
	"os"
	"strconv"
)

// Stat is the part of /proc/PID/stat agentrun uses.
type Stat struct {
	Comm                string // the kernel's name of the program (at most 15 bytes)
	PPid, Pgrp, Session int
}

// Parse reads b, the contents of /proc/PID/stat. The name is in parentheses and may hold
// spaces and parentheses itself: the fields after it count from the last ')'.
func Parse(b []byte) (Stat, bool) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return Stat{}, false
	}
	// state ppid pgrp session …
	f := bytes.Fields(b[end+1:])
	if len(f) < 4 {
		return Stat{}, false
	}
	s := Stat{Comm: string(b[open+1 : end])}
	var err error
	for i, p := range []*int{&s.PPid, &s.Pgrp, &s.Session} {
		if *p, err = strconv.Atoi(string(f[i+1])); err != nil {
			return Stat{}, false
		}
	}
	return s, true
}

// All is every process /proc shows, by pid; one that ends while it is read is left out.
func All() map[int]Stat {
	out := map[int]Stat{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		if s, ok := Parse(b); ok {
			out[pid] = s
		}
	}
	return out
}
