package profiles_test

import (
	"strings"
	"testing"

	"github.com/agentrun/agentrun/profiles"
)

func TestCheckFile(t *testing.T) {
	c := catalogOf(t, map[string]string{
		"p": `name: p
filesystem:
  read: [/usr, /etc, ~/.config/**, ~/.npm/_cacache/*/index]
  write: [$WORKSPACE, /etc/agent]
  protect: [$WORKSPACE/.git/hooks]
  deny: [~/.ssh, /etc/shadow, ~/.config/gh/*.yml]
exec:
  allow: [/usr/bin/*, $WORKSPACE/node_modules/.bin/**]
  deny: [/usr/bin/sudo]
`,
	}, nil)
	p := resolve(t, c, "p")
	for _, tc := range []struct {
		path   string
		a      profiles.Access
		allow  bool
		ruleIn string // a piece of the deciding rule; "" for none
	}{
		{"/usr/lib/x.so", profiles.AccessRead, true, "filesystem.read /usr"},
		{"/usr/lib/x.so", profiles.AccessWrite, false, "filesystem.read /usr"},
		{"/usr", profiles.AccessRead, true, "filesystem.read /usr"},
		{"/usrlocal/x", profiles.AccessRead, false, ""},
		{"/home/user/project/a.go", profiles.AccessWrite, true, "filesystem.write $WORKSPACE"},
		{"/home/user/project/.git/hooks/pre-commit", profiles.AccessWrite, false, "filesystem.protect"},
		{"/home/user/project/.git/hooks/pre-commit", profiles.AccessRead, true, "filesystem.protect"},
		{"/home/user/project/.git/config", profiles.AccessWrite, true, "filesystem.write"},
		{"/etc/agent/conf", profiles.AccessWrite, true, "filesystem.write /etc/agent"},
		{"/etc/passwd", profiles.AccessRead, true, "filesystem.read /etc"},
		{"/etc/shadow", profiles.AccessRead, false, "filesystem.deny /etc/shadow"},
		{"/home/user/.ssh/id_ed25519", profiles.AccessRead, false, "filesystem.deny ~/.ssh (builtin/p.yaml:6:"},
		{"/home/user/.config/gh/hosts.yml", profiles.AccessRead, false, "filesystem.deny ~/.config/gh/*.yml"},
		{"/home/user/.config/gh/config.toml", profiles.AccessRead, true, "filesystem.read ~/.config/**"},
		{"/home/user/.npm/_cacache/ab/index", profiles.AccessRead, true, "~/.npm/_cacache/*/index"},
		{"/home/user/.npm/_cacache/ab/other", profiles.AccessRead, false, ""},
		{"/home/user/secret.txt", profiles.AccessRead, false, ""},
		{"/usr/bin/git", profiles.AccessExec, true, "exec.allow /usr/bin/*"},
		{"/usr/bin/sudo", profiles.AccessExec, false, "exec.deny /usr/bin/sudo"},
		{"/usr/local/bin/x", profiles.AccessExec, false, ""},
		{"/home/user/project/node_modules/.bin/tsc", profiles.AccessExec, true, "exec.allow $WORKSPACE/node_modules/.bin/**"},
		{"/home/user/.ssh/tool", profiles.AccessExec, false, "filesystem.deny ~/.ssh"},
	} {
		d := p.CheckFile(tc.path, tc.a)
		if d.Allow != tc.allow {
			t.Errorf("%s %s: allow = %v (%s; %s), want %v", tc.a, tc.path, d.Allow, d.Rule, d.Reason, tc.allow)
		}
		if (tc.ruleIn == "") != (d.Rule == "") || !strings.Contains(d.Rule, tc.ruleIn) {
			t.Errorf("%s %s: rule = %q, want one containing %q", tc.a, tc.path, d.Rule, tc.ruleIn)
		}
		if !d.Allow && d.Reason == "" {
			t.Errorf("%s %s: a denial without a reason", tc.a, tc.path)
		}
	}
}
