package wsb

import (
	"errors"
	"flag"
	"sort"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/profilestest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func testOptions(name string, lossy bool) Options {
	return Options{Home: `C:\Users\user`, Workspace: `C:\src\project`, Command: []string{name, "--prompt", `say "hi" & 100%`}, Lossy: lossy}
}

// TestGolden compiles every built-in profile strictly (the golden is the .wsb or the error
// naming the rules) and with Lossy, and checks every .wsb strictly.
func TestGolden(t *testing.T) {
	pols := profilestest.Builtins(t, Env())
	names := make([]string, 0, len(pols))
	for n := range pols {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		pol := pols[name]
		pol.DefaultResources = pol.Resources.Unstated(profiles.DefaultLimits)
		t.Run(name, func(t *testing.T) {
			res, err := Compile(pol, testOptions(name, false))
			var strict []byte
			switch le := (*LostError)(nil); {
			case errors.As(err, &le):
				if len(le.Lost) == 0 {
					t.Fatal("a LostError with no rules")
				}
				strict = []byte("error: " + le.Error() + "\n")
			case err != nil:
				t.Fatal(err)
			default:
				strict = res.WSB
				if _, err := checkWSB(res.WSB); err != nil {
					t.Fatalf("strict: %v\n%s", err, res.WSB)
				}
			}
			profilestest.Golden(t, "platform/windows/wsb", name+".strict.golden", strict, *update)

			res, err = Compile(pol, testOptions(name, true))
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := checkWSB(res.WSB)
			if err != nil {
				t.Fatalf("lossy: %v\n%s", err, res.WSB)
			}
			if pol.Network.None() != (cfg.Networking == Disable) {
				t.Errorf("Networking %s for a policy with %d network rules", cfg.Networking, len(pol.Network.Allow))
			}
			for _, l := range res.Lost {
				if l.Rule != "mode: audit" && !strings.HasPrefix(l.Rule, "resources.") && l.Origin.Line == 0 {
					t.Errorf("lost rule %q has no file:line", l.Rule)
				}
				if !strings.Contains(string(res.WSB), l.Rule) {
					t.Errorf("lost rule %q is not in the file's comment", l.Rule)
				}
			}
			profilestest.Golden(t, "platform/windows/wsb", name+".wsb.golden", res.WSB, *update)
		})
	}
}

func rule(p, pattern string, line int) profiles.PathRule {
	return profiles.PathRule{Path: p, Pattern: pattern, Origin: profiles.Pos{File: "t.yaml", Line: line}}
}

// TestRules checks what is mapped, kept and lost for small policies.
func TestRules(t *testing.T) {
	ws, home := standInWorkspace, standInHome
	for _, tc := range []struct {
		name    string
		pol     profiles.Policy
		isDir   func(string) bool
		folders []string // HostFolder>SandboxFolder:ro|rw
		lost    []string // t.yaml:LINE
	}{
		{
			name:    "workspace only, nothing lost",
			pol:     profiles.Policy{Filesystem: profiles.FilesystemPolicy{Write: []profiles.PathRule{rule(ws, "$WORKSPACE", 1)}}},
			folders: []string{`C:\src\project>` + SandboxWorkspace + ":rw"},
		},
		{
			name:    "workspace read-only when no write root covers it",
			pol:     profiles.Policy{Filesystem: profiles.FilesystemPolicy{Read: []profiles.PathRule{rule("/usr", "/usr", 1)}}},
			folders: []string{`C:\src\project>` + SandboxWorkspace + ":ro"},
		},
		{
			name: "deny inside the workspace is lost, deny elsewhere in the home holds",
			pol: profiles.Policy{Filesystem: profiles.FilesystemPolicy{
				Write: []profiles.PathRule{rule(ws, "$WORKSPACE", 1)},
				Deny:  []profiles.PathRule{rule(ws+"/.env", "$WORKSPACE/.env", 2), rule(home+"/.aws", "~/.aws", 3)},
			}},
			folders: []string{`C:\src\project>` + SandboxWorkspace + ":rw"},
			lost:    []string{"t.yaml:2"},
		},
		{
			name: "protect holds in a read-only folder, not in a writable one",
			pol: profiles.Policy{Filesystem: profiles.FilesystemPolicy{
				Read:    []profiles.PathRule{rule(home+"/.config/git", "~/.config/git", 1)},
				Write:   []profiles.PathRule{rule(ws, "$WORKSPACE", 2), rule(home+"/.claude", "~/.claude/", 3)},
				Protect: []profiles.PathRule{rule(home+"/.config/git/config", "~/.config/git/config", 4), rule(home+"/.claude/settings.json", "~/.claude/settings.json", 5)},
			}},
			folders: []string{`C:\src\project>` + SandboxWorkspace + ":rw", `C:\Users\user\.claude>` + SandboxHome + `\.claude:rw`, `C:\Users\user\.config\git>` + SandboxHome + `\.config\git:ro`},
			lost:    []string{"t.yaml:5"},
		},
		{
			name: "a deny above a mapped folder is lost; a glob deny by its fixed part",
			pol: profiles.Policy{Filesystem: profiles.FilesystemPolicy{
				Write: []profiles.PathRule{rule(ws, "$WORKSPACE", 1)},
				Read:  []profiles.PathRule{rule(home+"/.ssh/known_hosts", "~/.ssh/known_hosts", 2)},
				Deny:  []profiles.PathRule{rule(home+"/.ssh/!(known_hosts)", "~/.ssh/!(known_hosts)", 3), rule(home+"/.ssh", "~/.ssh", 4)},
			}},
			folders: []string{`C:\src\project>` + SandboxWorkspace + ":rw", `C:\Users\user\.ssh\known_hosts>` + SandboxHome + `\.ssh\known_hosts:ro`},
			lost:    []string{"t.yaml:3", "t.yaml:4"},
		},
		{
			name: "roots that are not folders on the host are left out",
			pol: profiles.Policy{Filesystem: profiles.FilesystemPolicy{
				Write: []profiles.PathRule{rule(ws, "$WORKSPACE", 1)},
				Read:  []profiles.PathRule{rule(home+"/.gitconfig", "~/.gitconfig", 2), rule(home+"/.config/git", "~/.config/git", 3)},
			}},
			isDir:   func(p string) bool { return !strings.HasSuffix(p, ".gitconfig") },
			folders: []string{`C:\src\project>` + SandboxWorkspace + ":rw", `C:\Users\user\.config\git>` + SandboxHome + `\.config\git:ro`},
		},
		{
			name: "a read root inside a write root is not mapped twice",
			pol: profiles.Policy{Filesystem: profiles.FilesystemPolicy{
				Write: []profiles.PathRule{rule(ws, "$WORKSPACE", 1)},
				Read:  []profiles.PathRule{rule(ws+"/docs", "$WORKSPACE/docs", 2)},
			}},
			folders: []string{`C:\src\project>` + SandboxWorkspace + ":rw"},
		},
		{
			name: "hosts, exec, review, audit and limits are lost",
			pol: profiles.Policy{
				Mode:       profiles.ModeAudit,
				Filesystem: profiles.FilesystemPolicy{Write: []profiles.PathRule{rule(ws, "$WORKSPACE", 1)}, Review: []profiles.PathRule{rule(ws+"/Makefile", "$WORKSPACE/Makefile", 2)}},
				Exec:       profiles.ExecPolicy{Allow: []profiles.PathRule{rule("/usr/bin/**", "/usr/bin/**", 3)}},
				Network:    profiles.NetworkPolicy{Allow: []profiles.NetRule{{Host: "example.com", Ports: []profiles.PortRange{{From: 443, To: 443}}, Origin: profiles.Pos{File: "t.yaml", Line: 4}}}},
				Resources:  profiles.Resources{Pids: 100},
			},
			folders: []string{`C:\src\project>` + SandboxWorkspace + ":rw"},
			lost:    []string{"t.yaml:2", "t.yaml:3", "t.yaml:4", "mode: audit", "resources.pids 100"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.pol.Name = "t"
			o := testOptions("agent", false)
			o.IsDir = tc.isDir
			res, err := Compile(&tc.pol, o)
			var le *LostError
			if len(tc.lost) == 0 && err != nil {
				t.Fatal(err)
			}
			if len(tc.lost) > 0 {
				if !errors.As(err, &le) {
					t.Fatalf("strict compile: %v, want a LostError", err)
				}
				var got []string
				for _, l := range le.Lost {
					got = append(got, l.String())
				}
				for _, w := range tc.lost {
					if !strings.Contains(le.Error(), w) {
						t.Errorf("the error does not name %s:\n%s", w, le.Error())
					}
				}
				if len(got) != len(tc.lost) {
					t.Errorf("lost %d rules, want %d:\n%s", len(got), len(tc.lost), strings.Join(got, "\n"))
				}
				o.Lossy = true
				if res, err = Compile(&tc.pol, o); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := checkWSB(res.WSB)
			if err != nil {
				t.Fatalf("%v\n%s", err, res.WSB)
			}
			var folders []string
			for _, m := range cfg.MappedFolders.MappedFolder {
				mode := ":rw"
				if m.ReadOnly == "true" {
					mode = ":ro"
				}
				folders = append(folders, m.HostFolder+">"+m.SandboxFolder+mode)
			}
			if strings.Join(folders, "\n") != strings.Join(tc.folders, "\n") {
				t.Errorf("mapped folders:\n%s\nwant:\n%s", strings.Join(folders, "\n"), strings.Join(tc.folders, "\n"))
			}
		})
	}
}

func TestOptionsCheck(t *testing.T) {
	for _, tc := range []struct {
		name, home, ws string
		ok             bool
	}{
		{"drive paths", `C:\Users\ada`, `D:\src\p`, true},
		{"UNC workspace", `C:\Users\ada`, `\\server\share\p`, true},
		{"no home", "", `C:\p`, false},
		{"no workspace", `C:\Users\ada`, "", false},
		{"unix home", "/home/ada", `C:\p`, false},
		{"relative workspace", `C:\Users\ada`, `src\p`, false},
		{"drive-relative", `C:Users`, `C:\p`, false},
		{"stream name", `C:\Users\ada`, `C:\p:ads`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Options{Home: tc.home, Workspace: tc.ws}.Check()
			if (err == nil) != tc.ok {
				t.Errorf("Check() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
