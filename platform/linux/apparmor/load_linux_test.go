package apparmor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/events"
)

// TestAppArmorLogFollowsAuditLog: records appended to a growing audit log while a run lasts
// become events; records of other profiles and lines still being written wait or are skipped.
func TestAppArmorLogFollowsAuditLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, []byte(`type=AVC msg=audit(1.0:1): apparmor="DENIED" operation="open" profile="agentrun-x" name="/old" pid=1 comm="cat" requested_mask="r" denied_mask="r"`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Seek(fd, 0, 2); err != nil {
		t.Fatal(err)
	}
	mem := &events.Memory{}
	l := &Log{profile: "agentrun-x", sink: mem, stop: make(chan struct{})}
	l.wg.Add(1)
	go l.follow(fd, false)
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	write := func(s string) {
		if _, err := w.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	write(`type=AVC msg=audit(2.0:2): apparmor="DENIED" operation="open" profile="agentrun-x" name="/secret" pid=2 comm="cat" requested_mask="r" denied_mask="r"` + "\n")
	write(`type=AVC msg=audit(2.0:3): apparmor="DENIED" operation="open" profile="other" name="/other" pid=3 comm="cat" requested_mask="r" denied_mask="r"` + "\n")
	write(`type=AVC msg=audit(2.0:4): apparmor="ALLOWED" operation="mknod" profile="agentrun-x" name="/half`)
	time.Sleep(120 * time.Millisecond)
	write(`" pid=4 comm="sh" requested_mask="c" denied_mask="c"` + "\n")
	time.Sleep(120 * time.Millisecond)
	l.Close()
	var got []string
	for _, e := range mem.Events() {
		got = append(got, string(e.Verdict)+" "+e.Op+" "+e.Path)
	}
	if want := "denied read /secret|would-deny create /half"; strings.Join(got, "|") != want {
		t.Errorf("events = %q, want %q", strings.Join(got, "|"), want)
	}
}
