package fileaudit

import (
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/kdenials"
	"github.com/agentrun/agentrun/profiles"
)

// asWritten reports whether each path was resolved to itself (cleaned): no symlink and no ".."
// on the way. Only such a judgment is kept, and it is used again only while the path still
// resolves to itself (stillAsWritten): the agent may make a path that led to nothing lead to a
// secret the mounts hide — a symlink of its own retargeted, a parent directory replaced by a
// symlink, a symlink put at the path — where the second refusal (ENOENT again) is a denial.
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

// stillAsWritten reports whether each of raw's paths still resolves to itself in the view:
// one lookup that refuses every symlink finds the object, or finds a name missing.
func stillAsWritten(v *agentView, raw []kdenials.Path) bool {
	for _, p := range raw {
		fd, err := v.openFast(p.Name, true)
		if err == nil {
			unix.Close(fd)
		} else if err != unix.ENOENT {
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
// where its process was, and what is in /proc and /dev (/proc/self, /dev/fd) leads where the
// caller's own descriptors and identity do.
func quietKey(r kdenials.Record, flags uint64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %d %x", r.Nr, r.Errno, flags)
	for _, p := range r.Paths {
		clean := path.Clean(p.Name)
		if !strings.HasPrefix(clean, "/") || profiles.Within(clean, "/proc") || profiles.Within(clean, "/dev") {
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
