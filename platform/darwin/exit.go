package darwin

import (
	"bytes"
	"sync"
)

// exOSErr is sandbox-exec's status when it cannot apply the profile (EX_OSERR, sysexits.h).
const exOSErr = 71

// NestedError reports that sandbox-exec could not apply its profile because agentrun itself
// runs inside a sandbox (another agent's, an app's): macOS applies no profile to a process
// that already has one.
type NestedError struct {
	Output string // what sandbox-exec said
}

func (e *NestedError) Error() string {
	return "sandbox-exec cannot apply agentrun's profile: agentrun runs inside another sandbox (" + e.Output +
		"); fix: run agentrun from a terminal that is not sandboxed — not from inside an agent's shell (Codex, Claude Code, Gemini CLI with their sandbox on) or an App Sandbox app; `agentrun doctor` checks this"
}

// nestedFrom reports whether an exit status and the start of the process's error output are
// sandbox-exec refusing to nest: EX_OSERR and sandbox_apply's "Operation not permitted".
func nestedFrom(code int, head []byte) (*NestedError, bool) {
	if code != exOSErr {
		return nil, false
	}
	i := bytes.Index(head, []byte("sandbox_apply"))
	if i < 0 || !bytes.Contains(head[i:], []byte("Operation not permitted")) {
		return nil, false
	}
	line := head[i:]
	if j := bytes.IndexAny(line, "\r\n"); j >= 0 {
		line = line[:j]
	}
	return &NestedError{Output: string(line)}, true
}

// headWriter passes everything to w and keeps the first bytes written, so that what
// sandbox-exec says before it gives up can be read after the run.
type headWriter struct {
	w   interface{ Write([]byte) (int, error) }
	mu  sync.Mutex
	buf []byte
}

// headSize is how much of the start of the output is kept: sandbox-exec's message is one line.
const headSize = 1024

func (h *headWriter) Write(p []byte) (int, error) {
	h.mu.Lock()
	if n := headSize - len(h.buf); n > 0 {
		h.buf = append(h.buf, p[:min(n, len(p))]...)
	}
	h.mu.Unlock()
	return h.w.Write(p)
}

func (h *headWriter) head() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return bytes.Clone(h.buf)
}
