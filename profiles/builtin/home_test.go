package builtin_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/builtin"
	"github.com/agentrun/agentrun/profiles/profilestest"
)

// TestHomeByName checks the rule every built-in profile follows in the home directory: no
// profile reads or writes ~ itself or a directory that gathers many tools' files (~/.config,
// ~/.local, ~/.cache, ~/.ssh), and every program an exec rule allows under ~ lies in a
// directory a read or write rule makes visible: a path no rule names is absent.
func TestHomeByName(t *testing.T) {
	c, err := profiles.Load(builtin.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	env := profilestest.Env
	home := env.Home
	tooBroad := map[string]bool{home: true}
	for _, d := range []string{".config", ".local", ".local/share", ".local/state", ".cache", ".ssh", ".npmrc", ".env"} {
		tooBroad[filepath.Join(home, d)] = true
	}
	entries := c.List()
	if len(entries) < 12 {
		t.Fatalf("only %d built-in profiles", len(entries))
	}
	for _, e := range entries {
		t.Run(e.Name(), func(t *testing.T) {
			pol, err := c.Resolve(e, env)
			if err != nil {
				t.Fatal(err)
			}
			visible := append(append([]profiles.PathRule{}, pol.Filesystem.Read...), pol.Filesystem.Write...)
			for _, r := range visible {
				if tooBroad[r.Path] {
					t.Errorf("%s (%s) makes a whole directory of the home visible; name the paths a tool needs", r.Pattern, r.Origin)
				}
			}
			for _, x := range pol.Exec.Allow {
				if x.Path != home && !strings.HasPrefix(x.Path, home+"/") {
					continue
				}
				if !coveredBy(literalPrefix(x.Path), visible) {
					t.Errorf("exec.allow %s (%s): no read or write rule makes it visible; it would be absent", x.Pattern, x.Origin)
				}
			}
		})
	}
}

// literalPrefix is a pattern's path up to its first element with a *.
func literalPrefix(p string) string {
	elems := strings.Split(p, "/")
	for i, e := range elems {
		if strings.Contains(e, "*") {
			return strings.Join(elems[:i], "/")
		}
	}
	return p
}

// coveredBy reports whether path or one of its parents matches a rule's pattern.
func coveredBy(path string, rules []profiles.PathRule) bool {
	for p := path; p != "/" && p != "."; p = filepath.Dir(p) {
		for _, r := range rules {
			if ok, _ := filepath.Match(r.Path, p); ok {
				return true
			}
		}
	}
	return false
}
