package acl

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/agentrun/agentrun/platform/windows/wintest"
)

// TestConcurrentRuns lets runs of one SID from two Journal values (two agentrun processes,
// as far as the locks can tell) grant and end on shared paths while Recover runs: at the end
// no ACE is left, and no run ever lost an ACE while it was alive.
func TestConcurrentRuns(t *testing.T) {
	ed := newFake()
	dir := wintest.TempDir(t)
	j1, err := Open(dir, ed)
	if err != nil {
		t.Fatal(err)
	}
	j2, _ := Open(dir, ed)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j := j1
			if i%2 == 1 {
				j = j2
			}
			r, err := j.Begin(fmt.Sprintf("run%d", i), sidA)
			if err != nil {
				t.Error(err)
				return
			}
			g := Grant{Path: p("shared"), Access: Access(1 + i%4), Inherit: true}
			if err := r.Grant(g); err != nil {
				t.Error(err)
			}
			if _, err := j.Recover(); err != nil {
				t.Error(err)
			}
			if got := ed.state()[p("shared")]; !contains(got, fmt.Sprintf("%s:%s:true", sidA, g.Access)) {
				t.Errorf("run%d's live ACE is missing: %q", i, got)
			}
			if err := r.End(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	wantState(t, ed, nil)
	if n, err := j1.Recover(); n != 0 || err != nil {
		t.Errorf("Recover = %d, %v", n, err)
	}
}

func contains(list, item string) bool { return slices.Contains(strings.Split(list, ","), item) }
