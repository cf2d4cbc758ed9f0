package learn

import (
	"strings"
	"testing"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/profiles"
)

// TestClippedPathNotLearned checks that a path the store cut short is never learned by its
// cut name: the rule stops at the directory above it.
func TestClippedPathNotLearned(t *testing.T) {
	long := "/home/u/project/data/" + strings.Repeat("x", 2000)
	cut := events.Clip(long, events.MaxPathLen)
	if !clipped(cut) {
		t.Fatalf("clipped(%q…) = false", cut[:40])
	}
	if clipped("/home/u/project/notes…") {
		t.Errorf("a short name ending in an ellipsis is not a cut one")
	}
	l := &learner{pol: &profiles.Policy{}, refused: map[string]*Refusal{}}
	c := &cand{target: cut, section: SectionWrite}
	p, err := l.place(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(p, "xxx") || p != "/home/u/project/data" {
		t.Errorf("place(clipped) = %q, want /home/u/project/data", p)
	}
}
