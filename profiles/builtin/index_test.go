package builtin_test

import (
	"flag"
	"os"
	"testing"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/builtin"
)

var update = flag.Bool("update", false, "rewrite match.index")

// TestMatchIndexIsCurrent checks the index of match lists that lets agentrun choose a
// profile for a command without parsing every built-in profile: it must say what the
// profiles say (go test ./profiles/builtin -update rewrites it).
func TestMatchIndexIsCurrent(t *testing.T) {
	c, err := profiles.Load(builtin.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	want := profiles.FormatMatchIndex(c)
	if *update {
		if err := os.WriteFile(profiles.MatchIndexFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := builtin.FS.ReadFile(profiles.MatchIndexFile)
	if err != nil || string(got) != string(want) {
		t.Errorf("%s is out of date (go test ./profiles/builtin -update):\ngot:\n%s\nwant:\n%s", profiles.MatchIndexFile, got, want)
	}
}
