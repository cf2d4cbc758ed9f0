package profiles_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/profiles"
)

func TestHiddenHomeRules(t *testing.T) {
	home := testEnv.Home
	// homeless is a base that names the system but not the home directory, as base does once
	// the home is by name; homely reads ~ whole, as base did before.
	builtins := map[string]string{
		"homeless": "name: homeless\nfilesystem:\n  read: [/usr]\n  write: [$WORKSPACE]\n  protect: [~/.bashrc, ~/.ssh]\nexec:\n  allow: [/usr/bin/**, ~/.local/bin/*]\n",
		"homely":   "name: homely\nfilesystem:\n  read: [/usr, \"~\"]\n  write: [$WORKSPACE]\n",
	}
	for _, tc := range []struct {
		name string
		user string // the user's profile "mine"
		want []string
	}{
		{"protect and exec.allow of hidden home paths", `name: mine
extends: [homeless]
filesystem:
  protect: [~/.config/tool/hooks, $WORKSPACE/.tool]
exec:
  allow: [~/.cargo/bin/*, ~/tools/run.sh, /opt/x/**]
`, []string{
			"filesystem.protect ~/.config/tool/hooks → " + home + "/.config/tool/hooks",
			"exec.allow ~/.cargo/bin/* → " + home + "/.cargo/bin",
			"exec.allow ~/tools/run.sh → " + home + "/tools/run.sh",
		}},
		{"silenced once the profile names what it needs", `name: mine
extends: [homeless]
filesystem:
  read: [~/.config/tool, ~/tools]
  write: [~/.cargo]
  protect: [~/.config/tool/hooks]
exec:
  allow: [~/.cargo/bin/*, ~/tools/run.sh]
`, nil},
		{"a read rule beneath the need does not silence it", `name: mine
extends: [homeless]
filesystem:
  read: [~/.cargo/bin/cargo]
exec:
  allow: [~/.cargo/bin/*]
`, []string{"exec.allow ~/.cargo/bin/* → " + home + "/.cargo/bin"}},
		{"deny rules never count", `name: mine
extends: [homeless]
filesystem:
  deny: [~/.config/tool/token, ~/.secrets]
`, nil},
		{"home itself is not a need", `name: mine
extends: [homeless]
exec:
  allow: ["~/**"]
`, nil},
		{"a readable home: nothing hidden", `name: mine
extends: [homely]
filesystem:
  protect: [~/.config/tool/hooks]
exec:
  allow: [~/tools/run.sh]
`, nil},
		{"a profile of its own, not extending a built-in", `name: mine
filesystem:
  read: [/usr]
  protect: [~/.gitconfig]
`, []string{"filesystem.protect ~/.gitconfig → " + home + "/.gitconfig"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := catalogOf(t, builtins, map[string]string{"mine": tc.user})
			e, err := c.Lookup("mine")
			if err != nil {
				t.Fatal(err)
			}
			pol, err := c.Resolve(e, testEnv)
			if err != nil {
				t.Fatal(err)
			}
			own, err := c.OwnFiles(e)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range profiles.HiddenHomeRules(pol, home, func(f string) bool { return own[f] }) {
				if !strings.HasSuffix(h.Rule.Origin.File, "mine.yaml") || h.Rule.Origin.Line == 0 {
					t.Errorf("%s: origin %s, want a line of mine.yaml", h.Rule.Pattern, h.Rule.Origin)
				}
				got = append(got, h.Section+" "+h.Rule.Pattern+" → "+h.Need)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestOwnFilesLeavesBuiltinsOut(t *testing.T) {
	c := catalogOf(t, map[string]string{"b": "name: b\n"}, map[string]string{"mid": "name: mid\nextends: [b]\n", "top": "name: top\nextends: [mid]\n"})
	e, err := c.Lookup("top")
	if err != nil {
		t.Fatal(err)
	}
	own, err := c.OwnFiles(e)
	if err != nil {
		t.Fatal(err)
	}
	if len(own) != 2 {
		t.Errorf("own files %v, want top's and mid's", own)
	}
	for f := range own {
		if strings.HasPrefix(f, "builtin/") {
			t.Errorf("own files hold the built-in %s", f)
		}
	}
}
