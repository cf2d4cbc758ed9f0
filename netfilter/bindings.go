package netfilter

import (
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"
)

// minBinding is how long an answer stays bound at least, whatever its TTL: programs cache
// answers longer than DNS says (and reuse connections' addresses), and an address is checked
// again at connect time anyway.
const minBinding = 10 * time.Minute

// Bindings remembers which allowed names the sandbox's DNS server answered with which
// addresses, so a connection to an address can be tied to the name it was looked up for.
// It is safe for concurrent use.
type Bindings struct {
	mu  sync.RWMutex
	m   map[netip.Addr]map[string]time.Time // address → name → expiry
	now func() time.Time
}

// NewBindings returns an empty table.
func NewBindings() *Bindings {
	return &Bindings{m: map[netip.Addr]map[string]time.Time{}, now: time.Now}
}

// Add binds name to each address for ttl (at least minBinding).
func (b *Bindings) Add(name string, addrs []netip.Addr, ttl time.Duration) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	expiry := b.now().Add(max(ttl, minBinding))
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, a := range addrs {
		a = a.Unmap()
		names := b.m[a]
		if names == nil {
			names = map[string]time.Time{}
			b.m[a] = names
		}
		if expiry.After(names[name]) {
			names[name] = expiry
		}
	}
}

// Names returns the names an address is bound to now, sorted.
func (b *Bindings) Names(a netip.Addr) []string {
	now := b.now()
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []string
	for name, expiry := range b.m[a.Unmap()] {
		if now.Before(expiry) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
