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
