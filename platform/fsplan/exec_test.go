package fsplan

import (
	"reflect"
	"testing"

	"github.com/agentrun/agentrun/profiles"
)

// TestPlanExec checks which mounts lose exec: writable ones exec.allow does not reach, the
// private /tmp unless exec.allow names it, and each existing program exec.deny names, with the
// access of the mount around it.
func TestPlanExec(t *testing.T) {
	host := map[string]bool{ // path → is a directory
		"/usr": true, "/usr/bin/curl": false, "/usr/bin/wget": false, "/home/u": true,
		"/home/u/proj": true, "/home/u/proj/tool": false, "/home/u/.cache": true,
		"/home/u/.npm-global": true, "/home/u/.aws": true, "/home/u/.aws/bin": false,
		"/opt/x": false,
	}
	stat := func(p string) (bool, bool) { dir, ok := host[p]; return ok, dir }
	rules := func(paths ...string) []profiles.PathRule {
		var out []profiles.PathRule
		for _, p := range paths {
			out = append(out, profiles.PathRule{Path: p})
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		allow      []string
		wantNoExec []string
		wantTmp    bool
	}{
		{name: "workspace allowed", allow: []string{"/usr/bin/**", "/home/u/proj/**", "/home/u/.npm-global/**"},
			wantNoExec: []string{"/home/u/.cache"}, wantTmp: true},
		{name: "tmp allowed", allow: []string{"/usr/bin/**", "/tmp/go-build*/**"},
			wantNoExec: []string{"/home/u/.cache", "/home/u/.npm-global", "/home/u/proj"}, wantTmp: false},
		{name: "allow inside a write root", allow: []string{"/home/u/.cache/bin/tool"},
			wantNoExec: []string{"/home/u/.npm-global", "/home/u/proj"}, wantTmp: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pol := &profiles.Policy{
				Filesystem: profiles.FilesystemPolicy{
					Read:  rules("/usr", "/home/u"),
					Write: rules("/home/u/proj", "/home/u/.cache", "/home/u/.npm-global", "/tmp"),
					Deny:  rules("/home/u/.aws"),
				},
				Exec: profiles.ExecPolicy{
					Allow: rules(tc.allow...),
					Deny:  rules("/usr/bin/curl", "/usr/bin/wget", "/home/u/proj/tool", "/home/u/.aws/bin", "/opt/x", "/usr/bin/missing"),
				},
			}
			plan := Build(pol, stat)
			var noexec []string
			for _, m := range plan.Mounts {
				if m.NoExec {
					noexec = append(noexec, m.Path)
				}
				if m.NoExec && m.Access != Write {
					t.Errorf("%s %s: only writable mounts lose exec", m.Access, m.Path)
				}
			}
			if !reflect.DeepEqual(noexec, tc.wantNoExec) {
				t.Errorf("noexec mounts: got %q, want %q", noexec, tc.wantNoExec)
			}
			if plan.TmpNoExec != tc.wantTmp {
				t.Errorf("/tmp noexec: got %v, want %v", plan.TmpNoExec, tc.wantTmp)
			}
			var deny []string
			for _, m := range plan.ExecDeny {
				deny = append(deny, m.Access.String()+" "+m.Path)
			}
			// /home/u/.aws/bin is hidden already, /opt/x is not in the sandbox's view, and
			// /usr/bin/missing does not exist.
			want := []string{"read /usr/bin/curl", "read /usr/bin/wget", "write /home/u/proj/tool"}
			if !reflect.DeepEqual(deny, want) {
				t.Errorf("exec.deny binds: got %q, want %q", deny, want)
			}
		})
	}
}
