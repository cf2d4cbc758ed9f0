package cli

import (
	"fmt"
	"sort"
	"testing"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/events/store"
)

func TestProgramsOf(t *testing.T) {
	aggs := []store.Aggregate{
		{Kind: events.KindExec, Target: "/usr/bin/git", Verdict: events.Allowed, Count: 4, Exe: "/bin/sh"},
		{Kind: events.KindExec, Target: "/usr/bin/git", Verdict: events.WouldDeny, Count: 1},
		{Kind: events.KindExec, Target: "/tmp/payload", Verdict: events.Denied, Count: 2}, // never ran
		{Kind: events.KindFile, Target: "/etc/hosts", Verdict: events.Allowed, Count: 7, Exe: "/usr/bin/node"},
	}
	got := programsOf(aggs)
	sort.Slice(got, func(i, j int) bool { return got[i].Path < got[j].Path })
	if want := "[{/bin/sh 1} {/usr/bin/git 5} {/usr/bin/node 1}]"; fmt.Sprint(got) != want {
		t.Errorf("programsOf = %v, want %s", got, want)
	}
}
