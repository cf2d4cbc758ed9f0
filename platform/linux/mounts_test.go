package linux

import (
	"reflect"
	"testing"

	"github.com/agentrun/agentrun/profiles"
)

// TestPlanFilesystem checks the order and pruning of mounts on a fixed host: parents first,
// mounts that change nothing left out, protect kept only where it takes write access away,
// deny only where something is visible.
func TestPlanFilesystem(t *testing.T) {
	host := map[string]bool{ // path → is a directory
		"/usr": true, "/etc": true, "/etc/cron.d": true, "/etc/shadow": false,
		"/home/u": true, "/home/u/.ssh": true, "/home/u/.ssh/id_rsa": false, "/home/u/.aws": true,
		"/home/u/proj": true, "/home/u/proj/.git/hooks": true, "/home/u/.bashrc": false,
		"/home/u/.cache": true, "/opt/x": true,
	}
	stat := func(p string) (bool, bool) { dir, ok := host[p]; return ok, dir }
	rules := func(paths ...string) []profiles.PathRule {
		var out []profiles.PathRule
		for _, p := range paths {
			out = append(out, profiles.PathRule{Path: p})
		}
		return out
	}
	pol := &profiles.Policy{Filesystem: profiles.FilesystemPolicy{
		Read:    rules("/usr", "/etc", "/home/u", "/usr/share", "/home/u/proj/docs", "/missing"),
		Write:   rules("/home/u/proj", "/tmp", "/home/u/.cache", "/home/u/.ssh/sub"),
		Deny:    rules("/etc/shadow", "/home/u/.ssh/id_rsa", "/home/u/.aws", "/opt/x", "/nothere"),
		Protect: rules("/etc/cron.d", "/home/u/.bashrc", "/home/u/proj/.git/hooks", "/home/u/.ssh"),
	}}
	plan := planFilesystem(pol, stat)
	var got []string
	for _, m := range plan.Mounts {
		got = append(got, m.Access.String()+" "+m.Path)
	}
	want := []string{
		"read /etc",
		"deny /etc/shadow",
		"read /home/u",
		"deny /home/u/.aws",
		"write /home/u/.cache",
		"deny /home/u/.ssh/id_rsa",
		"write /home/u/proj",
		"protect /home/u/proj/.git/hooks",
		"read /usr",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mounts:\n got %q\nwant %q", got, want)
	}
	wantSkipped := []string{
		"read /usr/share: does not exist", "read /home/u/proj/docs: does not exist",
		"read /missing: does not exist", "write /home/u/.ssh/sub: does not exist",
	}
	if !reflect.DeepEqual(plan.Skipped, wantSkipped) {
		t.Errorf("skipped:\n got %q\nwant %q", plan.Skipped, wantSkipped)
	}
}
