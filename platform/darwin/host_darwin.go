//go:build darwin

package darwin

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/agentrun/agentrun/platform"
)

// launchHost is what a launch needs to know of the host: two stats, no process started.
func launchHost() Host {
	var h Host
	if _, err := os.Stat(SandboxExec); err != nil {
		h.SandboxExecWhy = fmt.Sprintf("%v; sandbox-exec ships with macOS at %s", err, SandboxExec)
	} else {
		h.SandboxExec = true
	}
	_, err := os.Stat(logPath)
	h.LogStream = err == nil
	return h
}

// probeHost is what doctor reports: launchHost, whether sandbox-exec can apply a profile
// here (it cannot inside another sandbox), SIP, Santa and what TCC shows this process.
func probeHost() Host {
	h := launchHost()
	if h.SandboxExec {
		// The one documented way to know before a run: apply a profile that allows everything.
		out, code := run(SandboxExec, "-p", "(version 1)(allow default)", "/usr/bin/true")
		if n, ok := nestedFrom(code, out); ok {
			h.Nested = n
		} else if code != 0 {
			h.SandboxExec, h.SandboxExecWhy = false, fmt.Sprintf("sandbox-exec fails (status %d): %s", code, firstLine(string(out)))
		}
	}
	if out, code := run("/usr/bin/csrutil", "status"); code >= 0 {
		var err error
		if h.SIP, err = parseCSRUtil(string(out)); err != nil {
			h.SIPWhy = err.Error()
		}
	} else {
		h.SIPWhy = "csrutil could not be run"
	}
	santactl := "/usr/local/bin/santactl"
	if p, err := exec.LookPath("santactl"); err == nil {
		santactl = p
	}
	if out, code := run(santactl, "version"); code == 0 {
		var err error
		if h.Santa, err = parseSantaVersion(string(out)); err != nil {
			h.SantaWhy = err.Error()
		}
	} else {
		h.SantaWhy = "santactl not found"
	}
	home, _ := os.UserHomeDir()
	f, err := os.Open(filepath.Join(home, "Library/Application Support/com.apple.TCC/TCC.db"))
	if err == nil {
		f.Close()
	}
	h.FullDiskAccess = fullDiskAccess(err)
	h.TermProgram = os.Getenv("TERM_PROGRAM")
	return h
}

// run runs a probe for at most five seconds and returns its output and exit status (-1 when
// it could not be started).
func run(path string, args ...string) ([]byte, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if cmd.ProcessState == nil {
		return []byte(strings.TrimSpace(fmt.Sprint(err))), -1
	}
	return out.Bytes(), platform.ExitCode(cmd.ProcessState, err)
}
