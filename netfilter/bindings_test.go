package netfilter

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// Endless names under an allowed wildcard keep the table bounded; the newest stay bound.
func TestBindingsBounded(t *testing.T) {
	b := NewBindings()
	now := time.Now()
	b.now = func() time.Time { return now }
	a := netip.MustParseAddr("192.0.2.1")
	for i := range 3 * maxBindings {
		now = now.Add(time.Millisecond)
		b.Add(fmt.Sprintf("n%d.example.test", i), []netip.Addr{a}, time.Minute)
	}
	if b.n > maxBindings || len(b.m[a]) != b.n {
		t.Errorf("%d bindings (%d counted), want at most %d", len(b.m[a]), b.n, maxBindings)
	}
	last := fmt.Sprintf("n%d.example.test", 3*maxBindings-1)
	if names := b.Names(a); len(names) == 0 || !contains(names, last) {
		t.Errorf("the newest binding %s is gone", last)
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
