package fileaudit

import (
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/agentrun/agentrun/platform/linux/kdenials"
	"github.com/agentrun/agentrun/profiles"
)

// asWritten reports whether each path was resolved to itself (cleaned): no symlink and no ".."
// on the way. Only then does the same path mean the same the next time: the agent may point a
// symlink of its own at nothing, have the probe passed over, then point it at a secret the
// mounts hide, where the second refusal (ENOENT again) would be a denial, and would go
// unrecorded.
func asWritten(resolved []string, raw []kdenials.Path) bool {
	if len(resolved) != len(raw) {
		return false
	}
	for i, p := range raw {
		if path.Clean(p.Name) != resolved[i] {
			return false
		}
	}
	return true
}

// quietRefusals are refusals lately judged to be nothing the policy explains (a probe for a
// file that is not there, the host's own permissions), by what the kernel reported of them:
// every program's loader and locale lookups repeat the same few, by the thousand in a build,
// and each would be decoded again, its process read from /proc, while the kernel's buffer
// fills (three runs at once of a loop of cat lost most of their records). An entry holds for
// quietFor: the host's files may change meanwhile, so what a probe finds may too.
type quietRefusals struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

const (
	quietFor = time.Second
	maxQuiet = 4096
)

// quietKey is r's key in quietRefusals, "" for one that is not kept: a relative path starts
// where its process was, and /proc's and /dev's paths (/proc/self, /dev/fd) lead where the
// caller's own descriptors and identity do.
func quietKey(r kdenials.Record, flags uint64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %d %x", r.Nr, r.Errno, flags)
	for _, p := range r.Paths {
		if !strings.HasPrefix(p.Name, "/") || strings.HasPrefix(p.Name, "/proc") || strings.HasPrefix(p.Name, "/dev") {
			return ""
		}
		b.WriteByte(0)
		b.WriteString(p.Name)
	}
	return b.String()
}

func (q *quietRefusals) has(key string) bool {
	if key == "" {
		return false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	t, ok := q.seen[key]
	return ok && time.Since(t) < quietFor
}

func (q *quietRefusals) add(key string) {
	if key == "" {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.seen == nil || len(q.seen) >= maxQuiet {
		q.seen = map[string]time.Time{}
	}
	q.seen[key] = time.Now()
}

// under reports whether a path of paths is dir or beneath it.
func under(paths []string, dir string) bool {
	for _, p := range paths {
		if profiles.Within(p, dir) {
			return true
		}
	}
	return false
}
