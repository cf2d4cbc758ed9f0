package rootfs

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestStartUserns checks the idmapping's process as startUserns leaves it: in a user
// namespace other than ours, stopped by its tracer (this thread), having run nothing of its
// program, and gone once killed and reaped, as NewIDMapUserns does.
func TestStartUserns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: a user namespace made for another process")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pid, pidfd, err := startUserns()
	defer func() {
		endUserns(pid, pidfd)
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); pid > 0 && !os.IsNotExist(err) {
			t.Errorf("the process outlived its kill and reaping: %v", err)
		}
	}()
	if err != nil {
		t.Fatal(err)
	}
	if pidfd < 0 {
		t.Error("no pidfd")
	}
	dir := "/proc/" + strconv.Itoa(pid)
	ours, err := os.Readlink("/proc/self/ns/user")
	if err != nil {
		t.Fatal(err)
	}
	if theirs, err := os.Readlink(dir + "/ns/user"); err != nil || theirs == ours {
		t.Errorf("the process is not in a user namespace of its own: %q (ours %q), %v", theirs, ours, err)
	}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(status), "State:\tt (tracing stop)") {
		t.Errorf("the process is not stopped by its tracer:\n%s", status)
	}
	// Its program's first instruction has not run: Go's runtime would have made threads.
	if !strings.Contains(string(status), "Threads:\t1\n") {
		t.Errorf("the process ran its program:\n%s", status)
	}
}
