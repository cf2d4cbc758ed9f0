package launcher

import (
	"fmt"
	"strings"
	"sync"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/events"
)

// protectNotes collects the protect rules that refused a write during a run, so that the
// end-of-run summary says why a command failed: git's own message for a protected
// .git/config is "could not write config file .git/config: Device or resource busy".
type protectNotes struct {
	mu    sync.Mutex
	rules []string          // in the order first seen
	paths map[string]string // rule → the first path it refused
}

// Record keeps denials by a filesystem.protect rule; it is an events.Sink.
func (p *protectNotes) Record(e events.Event) {
	if e.Verdict != events.Denied || !strings.HasPrefix(e.Rule, "filesystem.protect ") {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paths == nil {
		p.paths = map[string]string{}
	}
	if _, ok := p.paths[e.Rule]; !ok {
		p.rules = append(p.rules, e.Rule)
		p.paths[e.Rule] = e.Path
	}
}

// lines are the summary's sentences, one per rule (at most three).
func (p *protectNotes) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for i, r := range p.rules {
		if i == 3 {
			out = append(out, fmt.Sprintf("and %d more protect rules refused writes", len(p.rules)-i))
			break
		}
		out = append(out, fmt.Sprintf("%s: refused by %s; what it holds can run programs outside the sandbox, so it stays read-only and cannot be replaced, moved or removed (commands that change it, such as git config or git remote add, fail)",
			display.Escape(p.paths[r]), r))
	}
	return out
}
