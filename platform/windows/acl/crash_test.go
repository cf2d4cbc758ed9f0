package acl

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentrun/agentrun/platform/windows/wintest"
)

// TestMain lets the test binary be the agentrun that crashes: with ACLTEST_CHILD set to a
// state directory it begins a run, grants, says "ready" and waits to be killed.
func TestMain(m *testing.M) {
	if dir := os.Getenv("ACLTEST_CHILD"); dir != "" {
		childRun(dir)
		return
	}
	os.Exit(m.Run())
}

func childRun(dir string) {
	ed := newFake()
	ed.file = filepath.Join(dir, "fake-acl.json")
	j, err := Open(dir, ed)
	if err == nil {
		var r *Run
		if r, err = j.Begin("child", sidA); err == nil {
			if err = r.Grant(Grant{Path: p("child"), Access: WriteExecute, Inherit: true}); err == nil {
				err = r.Grant(Grant{Path: p("child/.git"), Access: DenyDelete})
			}
		}
	}
	if err != nil {
		os.Stdout.WriteString("error: " + err.Error() + "\n")
		os.Exit(2)
	}
	os.Stdout.WriteString("ready\n")
	time.Sleep(time.Hour) // until killed (a bare select{} is a deadlock the runtime may end)
}

func TestRecoverAfterKilledProcess(t *testing.T) {
	dir := wintest.TempDir(t)
	ed := newFake()
	ed.file = filepath.Join(dir, "fake-acl.json")
	j, err := Open(dir, ed)
	if err != nil {
		t.Fatal(err)
	}
	mine := begin(t, j, "mine", sidA, Grant{Path: p("child"), Access: Read, Inherit: true})

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ACLTEST_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		t.Fatalf("child said %q", line)
	}
	want := map[string]string{
		p("child"):      sidA + ":read:true," + sidA + ":write-execute:true",
		p("child/.git"): sidA + ":deny-delete:false",
	}
	wantState(t, ed, want)

	// The child is alive: Recover leaves it alone.
	if n, err := j.Recover(); n != 0 || err != nil {
		t.Fatalf("Recover with the child alive = %d, %v; want 0, nil", n, err)
	}
	wantState(t, ed, want)

	cmd.Process.Kill()
	cmd.Wait()
	n, err := j.Recover()
	if n != 2 || err != nil {
		t.Fatalf("Recover after the kill = %d, %v; want 2, nil", n, err)
	}
	// The child's ACEs are gone; ours, on the path it shared with the child, is back.
	wantState(t, ed, map[string]string{p("child"): sidA + ":read:true"})
	if err := mine.End(); err != nil {
		t.Fatal(err)
	}
	wantState(t, ed, nil)
}
