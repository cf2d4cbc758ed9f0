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
	n   int                                 // bindings in m
	now func() time.Time
}

// maxBindings bounds the table: an agent looking up endless names under an allowed wildcard
// must not grow agentrun's memory without end. Past it, expired bindings go, then those
// expiring first.
const maxBindings = 16384

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
		old, ok := names[name]
		if !ok {
			b.n++
		}
		if expiry.After(old) {
			names[name] = expiry
		}
	}
	if b.n > maxBindings {
		b.shrink()
	}
}

// shrink drops the expired bindings, then, while the table is still over three quarters of
// maxBindings, those that expire first.
func (b *Bindings) shrink() {
	now := b.now()
	for a, names := range b.m {
		for name, expiry := range names {
			if !now.Before(expiry) {
				delete(names, name)
				b.n--
			}
		}
		if len(names) == 0 {
			delete(b.m, a)
		}
	}
	if b.n <= maxBindings*3/4 {
		return
	}
	type binding struct {
		a      netip.Addr
		name   string
		expiry time.Time
	}
	all := make([]binding, 0, b.n)
	for a, names := range b.m {
		for name, expiry := range names {
			all = append(all, binding{a, name, expiry})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].expiry.Before(all[j].expiry) })
	for _, x := range all[:b.n-maxBindings*3/4] {
		delete(b.m[x.a], x.name)
		if len(b.m[x.a]) == 0 {
			delete(b.m, x.a)
		}
	}
	b.n = maxBindings * 3 / 4
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
