package darwin

import (
	"bytes"
	"errors"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/platform"
)

func TestExitCode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs a POSIX shell and signals")
	}
	for _, tc := range []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 3", 3},
		{"kill -TERM $$", 128 + 15},
		{"kill -KILL $$", 128 + 9},
	} {
		t.Run(tc.script, func(t *testing.T) {
			cmd := exec.Command("/bin/sh", "-c", tc.script)
			err := cmd.Run()
			if got := platform.ExitCode(cmd.ProcessState, err); got != tc.want {
				t.Errorf("exitCode = %d, want %d (err %v)", got, tc.want, err)
			}
		})
	}
	if got := platform.ExitCode(nil, errors.New("never started")); got != -1 {
		t.Errorf("no process: %d, want -1", got)
	}
}

func TestNestedFrom(t *testing.T) {
	// What sandbox-exec prints when the calling process is already sandboxed.
	said := []byte("sandbox-exec: sandbox_apply: Operation not permitted\n")
	for _, tc := range []struct {
		name string
		code int
		head []byte
		want bool
	}{
		{"nested", 71, said, true},
		{"nested through a terminal", 71, []byte("\x1b[0msandbox-exec: sandbox_apply: Operation not permitted\r\n"), true},
		{"other status", 1, said, false},
		{"the agent's own 71", 71, []byte("error: something else\n"), false},
		{"apply failed otherwise", 71, []byte("sandbox-exec: sandbox_apply: Invalid argument\n"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := nestedFrom(tc.code, tc.head)
			if ok != tc.want {
				t.Fatalf("nestedFrom = %v, want %v", ok, tc.want)
			}
			if ok && (e.Output != "sandbox_apply: Operation not permitted" || !strings.Contains(e.Error(), "fix:")) {
				t.Errorf("error %q (output %q)", e.Error(), e.Output)
			}
		})
	}
}

func TestHeadWriter(t *testing.T) {
	var out bytes.Buffer
	h := &headWriter{w: &out}
	big := bytes.Repeat([]byte("x"), headSize)
	h.Write([]byte("abc"))
	h.Write(big)
	if out.Len() != headSize+3 {
		t.Errorf("passed on %d bytes, want %d", out.Len(), headSize+3)
	}
	if got := h.head(); len(got) != headSize || string(got[:4]) != "abcx" {
		t.Errorf("head is %d bytes starting %q", len(got), got[:4])
	}
}
