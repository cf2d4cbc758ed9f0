package fsplan

import (
	"reflect"
	"testing"

	"github.com/agentrun/agentrun/profiles"
)

// TestPlanFilesystem checks the order and pruning of mounts on a fixed host: parents first,
// mounts that change nothing left out, protect kept only where it takes write access away
// (never where it would make a path visible), deny only where something is visible.
func TestPlanFilesystem(t *testing.T) {
	host := map[string]bool{ // path → is a directory
		"/usr": true, "/etc": true, "/etc/cron.d": true, "/etc/shadow": false,
		"/home/u": true, "/home/u/.ssh": true, "/home/u/.ssh/id_rsa": false, "/home/u/.aws": true,
		"/home/u/proj": true, "/home/u/proj/.git/hooks": true, "/home/u/.bashrc": false,
		"/home/u/.cache": true, "/opt/x": true, "/srv/linked/hooks": true,
		"/home/w": true, "/home/w/.gitconfig": false, "/home/w/.config/git": true,
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
		Read:  rules("/usr", "/etc", "/home/u", "/usr/share", "/home/u/proj/docs", "/missing", "/home/w/.gitconfig"),
		Write: rules("/home/u/proj", "/tmp", "/home/u/.cache", "/home/u/.ssh/sub"),
		Deny:  rules("/etc/shadow", "/home/u/.ssh/id_rsa", "/home/u/.aws", "/opt/x", "/nothere"),
		// /srv/linked/hooks: where a protected workspace path leads through a link; outside
		// every root, protecting it must not make it visible.
		// /home/w/.gitconfig: named by a read rule and protected, so visible and read-only;
		// /home/w/.config/git: protected only, so absent.
		Protect: rules("/etc/cron.d", "/home/u/.bashrc", "/home/u/proj/.git/hooks", "/home/u/.ssh", "/srv/linked/hooks",
			"/home/w/.gitconfig", "/home/w/.config/git"),
	}}
	plan := Build(pol, stat)
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
		"write /home/u/proj/.git", // pinned: mv .git would take the hooks bind along
		"protect /home/u/proj/.git/hooks",
		"protect /home/w/.gitconfig",
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

// TestPinAncestors checks that every directory between a write root and a protect or deny
// mount beneath it becomes a mount point, for existing and missing protected paths, and that a
// file standing where a protected path's directory should be (a worktree's .git file) is
// protected itself.
func TestPinAncestors(t *testing.T) {
	host := map[string]bool{ // path → is a directory
		"/home/u": true, "/home/u/.config": true, "/home/u/.config/systemd": true,
		"/ws": true, "/ws/.git": true, "/ws/.git/hooks": true, "/ws/.git/config": false,
		"/ws/a": true, "/ws/a/b": true, "/ws/a/b/.env": false, "/ws/.claude": true,
		"/ws/nested": true, "/ws/nested/w": true, "/ws/nested/w/x": true, "/ws/nested/w/x/p": true,
		"/wt": true, "/wt/.git": false, "/other": true, "/other/sub": true,
	}
	stat := func(p string) (bool, bool) { dir, ok := host[p]; return ok, dir }
	rules := func(paths ...string) []profiles.PathRule {
		var out []profiles.PathRule
		for _, p := range paths {
			out = append(out, profiles.PathRule{Path: p})
		}
		return out
	}
	tests := []struct {
		name string
		fs   profiles.FilesystemPolicy
		want []string
	}{{
		name: "git directory in the workspace",
		fs:   profiles.FilesystemPolicy{Write: rules("/ws"), Protect: rules("/ws/.git/hooks", "/ws/.git/config")},
		want: []string{"write /ws", "pin /ws/.git", "protect /ws/.git/config", "protect /ws/.git/hooks"},
	}, {
		name: "missing protected file: its existing directory is pinned",
		fs:   profiles.FilesystemPolicy{Write: rules("/ws"), Protect: rules("/ws/.claude/settings.json", "/ws/.vscode/tasks.json")},
		want: []string{"write /ws", "pin /ws/.claude"},
	}, {
		name: "deny deep in the workspace",
		fs:   profiles.FilesystemPolicy{Write: rules("/ws"), Deny: rules("/ws/a/b/.env")},
		want: []string{"write /ws", "pin /ws/a", "pin /ws/a/b", "deny /ws/a/b/.env"},
	}, {
		name: "nested write roots",
		fs:   profiles.FilesystemPolicy{Write: rules("/ws", "/ws/nested/w"), Protect: rules("/ws/nested/w/x/p")},
		want: []string{"write /ws", "pin /ws/nested", "pin /ws/nested/w", "pin /ws/nested/w/x", "protect /ws/nested/w/x/p"}, // the inner root changes nothing but is pinned
	}, {
		name: "worktree .git file is protected",
		fs:   profiles.FilesystemPolicy{Write: rules("/wt"), Protect: rules("/wt/.git/config", "/wt/.git/hooks")},
		want: []string{"write /wt", "protect /wt/.git"},
	}, {
		name: "workspace at home: ~/.config pinned",
		fs:   profiles.FilesystemPolicy{Read: rules("/home/u"), Write: rules("/home/u"), Protect: rules("/home/u/.config/systemd", "/home/u/.local/bin")},
		want: []string{"write /home/u", "pin /home/u/.config", "protect /home/u/.config/systemd"},
	}, {
		name: "read-only parents need no pins",
		fs:   profiles.FilesystemPolicy{Read: rules("/home/u"), Protect: rules("/home/u/.config/systemd"), Deny: rules("/other/sub")},
		want: []string{"read /home/u"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan := Build(&profiles.Policy{Filesystem: tc.fs}, stat)
			var got []string
			for _, m := range plan.Mounts {
				kind := m.Access.String()
				if m.Pin {
					kind = "pin"
				}
				got = append(got, kind+" "+m.Path)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("mounts:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}
