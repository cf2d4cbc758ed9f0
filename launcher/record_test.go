package launcher

import (
	"strings"
	"testing"

	"github.com/agentrun/agentrun/events/store"
)

func TestCapLines(t *testing.T) {
	if got := capLines(store.RunInfo{Events: 12}, 0, ""); len(got) != 0 {
		t.Errorf("nothing capped: %q, want no line", got)
	}
	got := capLines(store.RunInfo{Capped: 120000, Dropped: 5}, 3, "ev.jsonl")
	if len(got) != 3 || !strings.HasPrefix(got[0], "120,000 more events were only counted") ||
		!strings.Contains(got[0], "cap 10,000 groups per run, 100,000 per profile") ||
		!strings.HasPrefix(got[1], "5 events") || !strings.Contains(got[2], "ev.jsonl") {
		t.Errorf("capLines = %q", got)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
