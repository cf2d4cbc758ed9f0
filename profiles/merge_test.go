package profiles_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/agentrun/agentrun/platform/windows/wintest"
	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/builtin"
)

// catalogOf builds a catalog from YAML texts: builtin maps NAME to the text of a built-in
// profile, user to the text of a profile in the user's directory.
func catalogOf(t *testing.T, builtins, user map[string]string) *profiles.Catalog {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, text := range builtins {
		fsys[name+".yaml"] = &fstest.MapFile{Data: []byte(text)}
	}
	dir := wintest.TempDir(t)
	for name, text := range user {
		if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := profiles.Load(fsys, dir)
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	return c
}

func resolve(t *testing.T, c *profiles.Catalog, name string) *profiles.Policy {
	t.Helper()
	e, err := c.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Resolve(e, testEnv)
	if err != nil {
		t.Fatalf("resolving %s: %v", name, err)
	}
	return p
}

func rulePaths(rules []profiles.PathRule) []string {
	out := []string{}
	for _, r := range rules {
		out = append(out, r.Path)
	}
	return out
}

func netRules(rules []profiles.NetRule) []string {
	out := []string{}
	for _, r := range rules {
		out = append(out, r.String())
	}
	return out
}

func TestMergeOrder(t *testing.T) {
	c := catalogOf(t, map[string]string{
		"base": "name: base\nmode: enforce\nfilesystem: {read: [/usr], write: [$WORKSPACE], deny: [~/.aws]}\nresources: {memory: 1GiB, pids: 100}\nenv: {pass: [PATH], set: {A: base, B: base}}\n",
		"a":    "name: a\nextends: [base]\nmode: audit\nfilesystem: {read: [/opt, /usr]}\nnetwork: {allow: [a.example.com]}\nenv: {set: {A: a}}\n",
		"b":    "name: b\nextends: [base]\nmode: enforce\nfilesystem: {read: [/srv]}\nnetwork: {allow: [b.example.com, a.example.com:80]}\nresources: {pids: 200}\n",
		"top":  "name: top\nextends: [a, b]\nfilesystem: {write: [~/.cache/top]}\nenv: {pass: [TERM], set: {B: top}}\nresources: {cpu: 0.5}\n",
	}, nil)
	p := resolve(t, c, "top")
	if want := []string{"base", "a", "b", "top"}; !reflect.DeepEqual(p.Chain, want) {
		t.Errorf("chain = %v, want %v (parents first, base once)", p.Chain, want)
	}
	if p.Mode != profiles.ModeEnforce {
		t.Errorf("mode = %s, want enforce: b is applied after a", p.Mode)
	}
	if got, want := rulePaths(p.Filesystem.Read), []string{"/usr", "/opt", "/srv"}; !reflect.DeepEqual(got, want) {
		t.Errorf("read = %v, want %v", got, want)
	}
	if got, want := rulePaths(p.Filesystem.Write), []string{"/home/user/project", "/home/user/.cache/top"}; !reflect.DeepEqual(got, want) {
		t.Errorf("write = %v, want %v", got, want)
	}
	if got, want := netRules(p.Network.Allow), []string{"a.example.com:443,80", "b.example.com:443"}; !reflect.DeepEqual(got, want) {
		t.Errorf("network = %v, want %v (same host merges its ports)", got, want)
	}
	if want := (profiles.Resources{MemoryBytes: 1 << 30, Pids: 200, MilliCPU: 500}); p.Resources != want {
		t.Errorf("resources = %+v, want %+v", p.Resources, want)
	}
	if !reflect.DeepEqual(p.Env.Pass, []string{"PATH", "TERM"}) {
		t.Errorf("env.pass = %v", p.Env.Pass)
	}
	set := map[string]string{}
	for _, s := range p.Env.Set {
		set[s.Name] = s.Value
	}
	if want := map[string]string{"A": "a", "B": "top"}; !reflect.DeepEqual(set, want) {
		t.Errorf("env.set = %v, want %v", set, want)
	}
	if p.Filesystem.Deny[0].Origin.File != "builtin/base.yaml" || p.Filesystem.Deny[0].Origin.Line != 3 {
		t.Errorf("deny origin = %v, want builtin/base.yaml:3", p.Filesystem.Deny[0].Origin)
	}
}

func TestNetworkNoneClearsInherited(t *testing.T) {
	c := catalogOf(t, map[string]string{
		"net":     "name: net\nnetwork: {allow: [a.example.com]}\n",
		"offline": "name: offline\nextends: [net]\nnetwork: none\n",
		"again":   "name: again\nextends: [offline]\nnetwork: {allow: [b.example.com]}\n",
	}, nil)
	if p := resolve(t, c, "offline"); !p.Network.None() {
		t.Errorf("offline network = %v, want none", netRules(p.Network.Allow))
	}
	if got := netRules(resolve(t, c, "again").Network.Allow); !reflect.DeepEqual(got, []string{"b.example.com:443"}) {
		t.Errorf("again network = %v, want only b.example.com:443", got)
	}
}

// A child cannot take back a parent's deny: the deny stays in the policy, and the write the
// child asked for is reported as having no effect.
func TestDenyCannotBeUndone(t *testing.T) {
	c := catalogOf(t, map[string]string{
		"base":  "name: base\nfilesystem: {deny: [~/.aws]}\n",
		"child": "name: child\nextends: [base]\nfilesystem: {write: [~/.aws/cli/cache]}\n",
	}, nil)
	p := resolve(t, c, "child")
	if got := rulePaths(p.Filesystem.Deny); !reflect.DeepEqual(got, []string{"/home/user/.aws"}) {
		t.Errorf("deny = %v", got)
	}
	if got := rulePaths(p.Filesystem.Write); len(got) != 0 {
		t.Errorf("write = %v; a write inside a deny has no effect and must be dropped", got)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0].Msg, "deny wins") {
		t.Errorf("warnings = %v, want one saying the write has no effect", p.Warnings)
	}
}

func TestUserProfileShadowsBuiltin(t *testing.T) {
	c := catalogOf(t,
		map[string]string{"claude": "name: claude\nmatch: [claude]\nnetwork: {allow: [api.anthropic.com]}\n"},
		map[string]string{"claude": "name: claude\nextends: [claude]\nmatch: [claude]\nnetwork: {allow: [proxy.example.com]}\n"},
	)
	p := resolve(t, c, "claude")
	if got, want := netRules(p.Network.Allow), []string{"api.anthropic.com:443", "proxy.example.com:443"}; !reflect.DeepEqual(got, want) {
		t.Errorf("network = %v, want %v: the user's claude extends the built-in claude", got, want)
	}
	e, ok, err := c.Match("/usr/local/bin/claude")
	if err != nil || !ok || e.Layer != profiles.LayerUser {
		t.Errorf("Match(claude) = %v, %v, %v; want the user's profile", e, ok, err)
	}
}

func TestMatch(t *testing.T) {
	c := catalogOf(t,
		map[string]string{"codex": "name: codex\nmatch: [codex]\n", "base": "name: base\n"},
		map[string]string{"x1": "name: x1\nmatch: [tool]\n", "x2": "name: x2\nmatch: [tool]\n"},
	)
	if e, ok, err := c.Match("/opt/bin/codex"); err != nil || !ok || e.Name() != "codex" {
		t.Errorf("Match(/opt/bin/codex) = %v, %v, %v", e, ok, err)
	}
	if _, ok, err := c.Match("vim"); ok || err != nil {
		t.Errorf("Match(vim) = %v, %v; want no match", ok, err)
	}
	if _, _, err := c.Match("tool"); err == nil || !strings.Contains(err.Error(), "both match") {
		t.Errorf("Match(tool) error = %v; want both profiles named", err)
	}
}

func TestExtendsCycle(t *testing.T) {
	c := catalogOf(t, nil, map[string]string{
		"a": "name: a\nextends: [b]\n",
		"b": "name: b\nextends: [c]\n",
		"c": "name: c\nextends: [a]\n",
	})
	e, _ := c.Lookup("a")
	_, err := c.Resolve(e, testEnv)
	if err == nil || !strings.Contains(err.Error(), "a → b → c → a is a loop") || !strings.Contains(err.Error(), "c.yaml:2:11") {
		t.Errorf("error = %v; want the cycle a → b → c → a at c.yaml:2:11", err)
	}
}

func TestUserFileNameMustMatch(t *testing.T) {
	dir := wintest.TempDir(t)
	if err := os.WriteFile(filepath.Join(dir, "mine.yaml"), []byte("name: other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := profiles.Load(nil, dir)
	if err == nil || !strings.Contains(err.Error(), "mine.yaml:1:7") || !strings.Contains(err.Error(), "does not match the file name") {
		t.Errorf("error = %v", err)
	}
}

// TestBuiltinsRoundTrip checks every built-in profile: it resolves, no two claim the same
// command, the agent profiles are selected by their command, and the resolved YAML parses
// back to the same policy.
func TestBuiltinsRoundTrip(t *testing.T) {
	c, err := profiles.Load(builtin.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, agent := range []string{"claude", "codex", "gemini", "aider", "opencode"} {
		e, ok, err := c.Match(agent)
		if err != nil || !ok || e.Name() != agent {
			t.Errorf("Match(%s) = %v, %v, %v", agent, e, ok, err)
		}
	}
	if len(c.List()) < 12 {
		t.Errorf("%d built-in profiles, want base, 5 fragments, 5 agents and ci", len(c.List()))
	}
	for _, e := range c.List() {
		t.Run(e.Name(), func(t *testing.T) {
			p, err := c.Resolve(e, testEnv)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Warnings) > 0 {
				t.Errorf("built-in profile has warnings: %v", p.Warnings)
			}
			if p.Chain[len(p.Chain)-1] != e.Name() || (e.Name() != "base" && len(e.File.Extends) > 0 && p.Chain[0] != "base") {
				t.Errorf("chain %v: want base first and %s last", p.Chain, e.Name())
			}
			out, err := p.YAML()
			if err != nil {
				t.Fatal(err)
			}
			f, err := profiles.Parse("resolved.yaml", out)
			if err != nil {
				t.Fatalf("resolved YAML does not parse: %v\n%s", err, out)
			}
			again, err := profiles.Load(fstest.MapFS{e.Name() + ".yaml": {Data: out}}, "")
			if err != nil {
				t.Fatal(err)
			}
			p2, err := again.Resolve(&profiles.Entry{File: f}, testEnv)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(stripOrigins(p), stripOrigins(p2)) {
				t.Errorf("round trip changed the policy:\n%+v\n%+v", stripOrigins(p), stripOrigins(p2))
			}
		})
	}
}

// stripOrigins keeps what a policy enforces and drops where each rule was written.
func stripOrigins(p *profiles.Policy) *profiles.Policy {
	q := *p
	q.Chain, q.Warnings = nil, nil
	paths := func(rules []profiles.PathRule) []profiles.PathRule {
		out := make([]profiles.PathRule, len(rules))
		for i, r := range rules {
			out[i] = profiles.PathRule{Path: r.Path}
		}
		return out
	}
	q.Filesystem = profiles.FilesystemPolicy{Read: paths(p.Filesystem.Read), Write: paths(p.Filesystem.Write), Deny: paths(p.Filesystem.Deny), Protect: paths(p.Filesystem.Protect)}
	q.Exec = profiles.ExecPolicy{Allow: paths(p.Exec.Allow), Deny: paths(p.Exec.Deny)}
	q.Network.Allow = netStrip(p.Network.Allow)
	q.Network.UDP = netStrip(p.Network.UDP)
	q.Env.Set = nil
	for _, s := range p.Env.Set {
		q.Env.Set = append(q.Env.Set, profiles.EnvSetting{Name: s.Name, Value: s.Value})
	}
	return &q
}

func netStrip(rules []profiles.NetRule) []profiles.NetRule {
	out := make([]profiles.NetRule, len(rules))
	for i, r := range rules {
		r.Origin = profiles.Pos{}
		out[i] = r
	}
	return out
}
