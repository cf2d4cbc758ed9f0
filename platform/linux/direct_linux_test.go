package linux

import (
	"reflect"
	"testing"

	"github.com/agentrun/agentrun/platform/linux/stage"
	"github.com/agentrun/agentrun/profiles"
)

func TestPunchHoles(t *testing.T) {
	tree := map[string][]string{
		"/home/u":      {".ssh", ".aws", "notes.txt", "proj"},
		"/home/u/.ssh": {"id_rsa", "id_rsa.pub", "known_hosts"},
	}
	list := func(dir string) []string { return tree[dir] }
	rules := []stage.Rule{{Path: "/home/u", Rights: "r"}, {Path: "/home/u/proj", Rights: "rw"}, {Path: "/usr", Rights: "r"}}
	got := punchHoles(rules, []string{"/home/u/.ssh/id_rsa", "/home/u/.aws", "/etc/shadow", "/home/u/proj/.env"}, list)
	want := []stage.Rule{
		{Path: "/home/u", Rights: "d"},
		{Path: "/home/u/.ssh", Rights: "d"},
		{Path: "/home/u/.ssh/id_rsa.pub", Rights: "r"},
		{Path: "/home/u/.ssh/known_hosts", Rights: "r"},
		{Path: "/home/u/notes.txt", Rights: "r"},
		{Path: "/home/u/proj", Rights: "d"}, // split for .env; the write rule keeps covering it
		{Path: "/home/u/proj", Rights: "rw"},
		{Path: "/usr", Rights: "r"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("punchHoles:\n got %v\nwant %v", got, want)
	}
	for _, r := range got {
		for _, d := range []string{"/home/u/.ssh/id_rsa", "/home/u/.aws"} {
			if r.Rights != "d" && profiles.Within(d, r.Path) {
				t.Errorf("rule %v still covers denied %s", r, d)
			}
		}
	}
}
