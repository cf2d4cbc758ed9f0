package fileaudit

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestProcAfter: what a process was when it made a call reported after the fact — its
// command line while the same program runs, its program's name (and parent) once it has
// executed another, its name alone once it has ended — and nothing of it read then is kept
// in the table (a notified call later reads it anew).
func TestProcAfter(t *testing.T) {
	sleep := exec.Command("sleep", "30")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()
	pid := sleep.Process.Pid
	// Until it has executed sleep, its arguments in place (its name changes first).
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); string(c) == "sleep\n" && string(b) == "sleep\x0030\x00" {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("the child did not execute sleep")
		}
	}
	procs := newProcTable()

	p, ended := procs.after(pid, pid, "sleep")
	if ended || p.cmdline != "sleep 30" || p.ppid != os.Getpid() {
		t.Errorf("the same program: %+v, ended %v; want its command line and parent", p, ended)
	}
	p, ended = procs.after(pid, pid, "sh") // it was sh, and has executed sleep since
	if ended || p.cmdline != "sh" || p.ppid != os.Getpid() || p.exe != "" {
		t.Errorf("another program since: %+v, ended %v; want the name it had, and its parent", p, ended)
	}
	if len(procs.procs) != 0 {
		t.Errorf("after kept what it read: %v", procs.procs)
	}
	// A cached entry of the same program is used as it is.
	cached := &procInfo{pid: pid, cmdline: "cached", comm: "sleep"}
	procs.procs[pid] = cached
	if p, _ := procs.after(pid, pid, "sleep"); p != cached {
		t.Errorf("the table's entry was not used: %+v", p)
	}

	done := exec.Command("true")
	if err := done.Run(); err != nil {
		t.Fatal(err)
	}
	p, ended = procs.after(done.Process.Pid, done.Process.Pid, "true")
	if !ended || p.cmdline != "true" || p.pid != done.Process.Pid {
		t.Errorf("a process that has ended: %+v, ended %v; want its name, ended", p, ended)
	}
}
