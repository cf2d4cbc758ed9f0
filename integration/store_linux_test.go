package integration

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentrun/agentrun/events"
)

// TestStoreSurvivesSIGKILL kills agentrun while its agent runs in audit mode: what the store
// had been told before the kill is there afterwards, and the next start cleans up.
func TestStoreSurvivesSIGKILL(t *testing.T) {
	r := newRunner(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := r.command(ctx, "--mode", "audit", "--profile", r.profile, "--", "sh", "-c", "cat /etc/shadow >/dev/null; touch ~/before-kill; sleep 60.375")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForProcess(t, "sleep 60.375")
	// The events reach the store within its commit interval; wait for them there, so the
	// kill surely comes after they were written.
	want := []string{"file read /etc/shadow", "file create " + r.home + "/before-kill"}
	for deadline := time.Now().Add(5 * time.Second); !hasEvents(t, r, want); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the events never reached the store: %v", storedEvents(t, r))
		}
	}
	killThenStartAgain(t, r, cmd, "sleep 60.375")
	if !hasEvents(t, r, want) {
		t.Errorf("after the kill the store lacks %v", want)
	}
	if l := leftovers(t); len(l) > 0 {
		t.Errorf("left behind after the next start: %v", l)
	}
}

func hasEvents(t *testing.T, r *runner, keys []string) bool {
	t.Helper()
	evs := storedEvents(t, r, "--verdict", "would-deny")
	for _, k := range keys {
		if _, ok := findEvent(evs, k); !ok {
			return false
		}
	}
	return true
}

// TestStoreConcurrentRuns runs two agents in audit mode at once, each touching its own
// denied files: every event of both is stored.
func TestStoreConcurrentRuns(t *testing.T) {
	r := newRunner(t, false)
	const files = 150
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			script := fmt.Sprintf("for n in $(seq %d); do touch ~/agent%d-$n; done", files, i)
			results[i] = r.run(t, "--mode", "audit", "--profile", r.profile, "--", "sh", "-c", script)
		}()
	}
	wg.Wait()
	for i, res := range results {
		if res.code != 0 {
			t.Fatalf("agent %d: %s", i, res.String())
		}
	}
	evs := storedEvents(t, r, "--verdict", "would-deny")
	count := map[string]int{}
	for _, e := range evs {
		if e.Kind == events.KindFile && e.Op == "create" && strings.HasPrefix(e.Path, r.home+"/agent") {
			count[strings.Split(strings.TrimPrefix(e.Path, r.home+"/"), "-")[0]]++
		}
	}
	for i := range results {
		if got := count[fmt.Sprintf("agent%d", i)]; got != files {
			t.Errorf("agent %d: %d create events stored, want %d", i, got, files)
		}
	}
}
