package wsb

import (
	"bytes"
	"testing"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/profilestest"
)

// TestPlaceMatchesCompile: every built-in profile resolved for a host's paths and placed
// compiles to the .wsb that the profile resolved for the stand-ins compiles to (what
// agentrun compile --target wsb writes).
func TestPlaceMatchesCompile(t *testing.T) {
	host := profiles.Env{Home: "/home/ada", Workspace: "/src/project", TmpDir: "/tmp",
		ConfigHome: "/home/ada/.config", DataHome: "/home/ada/.local/share", StateHome: "/home/ada/.local/state", CacheHome: "/home/ada/.cache"}
	onHost := profilestest.Builtins(t, host)
	standIn := profilestest.Builtins(t, Env())
	for name, pol := range onHost {
		t.Run(name, func(t *testing.T) {
			placed := Place(pol, host.Home, host.Workspace)
			got, err := Compile(placed, testOptions(name, true))
			if err != nil {
				t.Fatal(err)
			}
			want, err := Compile(standIn[name], testOptions(name, true))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.WSB, want.WSB) {
				t.Errorf("placed:\n%s\nwant:\n%s", got.WSB, want.WSB)
			}
		})
	}
}

func TestPlace(t *testing.T) {
	pol := &profiles.Policy{
		Filesystem: profiles.FilesystemPolicy{
			Write: []profiles.PathRule{{Path: `C:\src\p`, Pattern: "$WORKSPACE"}, {Path: `C:\src\p\x`, Pattern: "$WORKSPACE/x"}},
			Read:  []profiles.PathRule{{Path: `C:\Users\ada\.gitconfig`, Pattern: "~/.gitconfig"}, {Path: "/usr", Pattern: "/usr/**"}},
			Deny:  []profiles.PathRule{{Path: `C:\Users\ada\AppData\agentrun`, Pattern: "agentrun's runtime state", Origin: profiles.OwnFilesOrigin}, {Path: `C:\Users\ada\.config\agentrun`, Pattern: "$XDG_CONFIG_HOME/agentrun"}},
		},
		Env: profiles.EnvPolicy{Set: []profiles.EnvSetting{
			{Name: "A", Value: `c:\users\ADA\.claude`}, {Name: "B", Value: `C:\src\p\bin`}, {Name: "C", Value: "plain"}, {Name: "D", Value: `C:\src\project`},
		}},
	}
	got := Place(pol, `C:\Users\ada`, `C:\src\p\`)
	paths := func(rules []profiles.PathRule) []string {
		var out []string
		for _, r := range rules {
			out = append(out, r.Path)
		}
		return out
	}
	check := func(what string, got, want []string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %q, want %q", what, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %q, want %q", what, got, want)
			}
		}
	}
	check("write", paths(got.Filesystem.Write), []string{standInWorkspace, standInWorkspace + "/x"})
	check("read", paths(got.Filesystem.Read), []string{standInHome + "/.gitconfig", "/usr"})
	check("deny", paths(got.Filesystem.Deny), []string{`C:\Users\ada\AppData\agentrun`, standInHome + "/.config/agentrun"})
	var set []string
	for _, s := range got.Env.Set {
		set = append(set, s.Value)
	}
	check("env.set", set, []string{standInHome + "/.claude", standInWorkspace + "/bin", "plain", `C:\src\project`})
	if pol.Env.Set[0].Value != `c:\users\ADA\.claude` || pol.Filesystem.Write[0].Path != `C:\src\p` {
		t.Error("Place changed the policy it was given")
	}
}

func TestExpandPattern(t *testing.T) {
	for _, tc := range []struct{ pattern, want string }{
		{"~", standInHome},
		{"~/.ssh/id_*", standInHome + "/.ssh/id_*"},
		{"$WORKSPACE", standInWorkspace},
		{"$WORKSPACE/.env", standInWorkspace + "/.env"},
		{"$XDG_CACHE_HOME/go-build", standInHome + "/.cache/go-build"},
		{"$TMPDIR/x", standInTmp + "/x"},
		{"/usr/**", ""},
		{"$XDG_RUNTIME_DIR/agentrun", ""},
		{"$NOPE/x", ""},
		{"~/../etc", ""},
		{"agentrun's runtime state", ""},
	} {
		got, ok := expandPattern(tc.pattern, Env())
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("expandPattern(%q) = %q, %v; want %q", tc.pattern, got, ok, tc.want)
		}
	}
}

func TestHostUnder(t *testing.T) {
	for _, tc := range []struct {
		p, dir, rest string
		ok           bool
	}{
		{`C:\src\p`, `C:\src\p`, "", true},
		{`C:\src\p\a\b`, `c:\SRC\p\`, "/a/b", true},
		{`C:\src\pq`, `C:\src\p`, "", false},
		{"/home/ada/x", "/home/ada", "/x", true},
		{"/home/ada/x", "", "", false},
	} {
		rest, ok := hostUnder(tc.p, tc.dir)
		if rest != tc.rest || ok != tc.ok {
			t.Errorf("hostUnder(%q, %q) = %q, %v; want %q, %v", tc.p, tc.dir, rest, ok, tc.rest, tc.ok)
		}
	}
}
