package events

import (
	"reflect"
	"testing"
)

// TestStamp: every event through a stamped sink carries the run's ID and profile, whatever
// its producer set (nothing, or another run's), and keeps everything else.
func TestStamp(t *testing.T) {
	produced := []Event{
		{Kind: KindFlow, Protocol: "tcp", Address: "203.0.113.9", Port: 443, Verdict: Denied, Rule: "metadata"}, // the network stack
		{Kind: KindDNS, Name: "evil.test", Protocol: "TXT", Verdict: Denied},                                    // the resolver
		{Kind: KindFile, Op: "read", Path: "/etc/shadow", Verdict: WouldDeny, Chain: []string{"cat (pid 3)"}},   // the file judge
		{Kind: KindExec, Op: "exec", Path: "/usr/bin/curl", Verdict: Denied},                                    // the file judge
		{Kind: KindSocket, Op: "connect", Path: "/run/docker.sock", Verdict: Denied},                            // the socket gate
		{Kind: KindFile, Op: "open", Path: "/secret", Verdict: Denied, Rule: "apparmor profile agentrun-p"},     // the AppArmor follower
		{Kind: KindFile, RunID: "other-run", Profile: "other", Verdict: Denied},                                 // a producer that stamped on its own
	}
	mem := &Memory{}
	sink := Stamp(mem, "run-1", "claude")
	for _, e := range produced {
		sink.Record(e)
	}
	got := mem.Events()
	if len(got) != len(produced) {
		t.Fatalf("%d events passed on, want %d", len(got), len(produced))
	}
	for i, e := range got {
		if e.RunID != "run-1" || e.Profile != "claude" {
			t.Errorf("event %d: run %q, profile %q; want run-1, claude", i, e.RunID, e.Profile)
		}
		want := produced[i]
		want.RunID, want.Profile = "run-1", "claude"
		if !reflect.DeepEqual(e, want) {
			t.Errorf("event %d: %+v, want %+v", i, e, want)
		}
	}
}
