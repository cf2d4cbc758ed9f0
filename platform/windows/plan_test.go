package windows

import (
	"flag"
	"fmt"
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/platform/windows/acl"
	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/profilestest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fakeHost is a fixed Windows file tree: slashed paths, directories ending in "/".
type fakeHost map[string]bool // path → is a directory

func newFakeHost(paths ...string) fakeHost {
	h := fakeHost{}
	for _, p := range paths {
		dir := strings.HasSuffix(p, "/")
		p = strings.TrimSuffix(p, "/")
		h[p] = dir
		for a := parentOf(p); a != p && len(a) > 3; a = parentOf(a) {
			h[a] = true
			p = a
		}
	}
	return h
}

func (h fakeHost) Stat(p string) (bool, bool) {
	dir, ok := h[p]
	return ok, dir
}

func (h fakeHost) List(dir string) ([]string, error) {
	if !h[dir] {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	var out []string
	for p := range h {
		if parentOf(p) == dir && p != dir {
			out = append(out, path.Base(p))
		}
	}
	sort.Strings(out)
	return out, nil
}

func rules(paths ...string) []profiles.PathRule {
	out := make([]profiles.PathRule, len(paths))
	for i, p := range paths {
		out[i] = profiles.PathRule{Path: p, Pattern: p, Origin: profiles.Pos{File: "t.yaml", Line: i + 1}}
	}
	return out
}

// text renders a plan one line per item, for tests and goldens.
func (p *plan) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "container %s\n", p.Container)
	names := map[acl.Access]string{acl.Read: "read", acl.ReadExecute: "read+exec", acl.Write: "write", acl.WriteExecute: "write+exec",
		acl.DenyAll: "deny all", acl.DenyWrite: "deny write", acl.DenyDelete: "deny delete"}
	for _, g := range p.Grants {
		inherit := ""
		if g.Inherit {
			inherit = " (inherited)"
		}
		fmt.Fprintf(&b, "%-11s %s%s\n", names[g.Access], g.Path, inherit)
	}
	for _, t := range p.Traverse {
		fmt.Fprintf(&b, "traverse    %s\n", t)
	}
	fmt.Fprintf(&b, "limits      memory %d, processes %d, milli-CPU %d\n", p.Limits.MemoryBytes, p.Limits.Processes, p.Limits.MilliCPU)
	fmt.Fprintf(&b, "network     %v, audit %v, %d rules without a Windows path\n", p.Network, p.Audit, len(p.Unmapped))
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "note        %s\n", n)
	}
	return b.String()
}

func TestPlanGrants(t *testing.T) {
	h := newFakeHost(
		"C:/Users/u/src/proj/main.go", "C:/Users/u/src/proj/.git/hooks/", "C:/Users/u/src/proj/.git/config",
		"C:/Users/u/.gitconfig", "C:/Users/u/.claude/.credentials.json", "C:/Users/u/.claude/settings.json",
		"C:/Users/u/.ssh/id_ed25519", "C:/Users/u/AppData/Roaming/npm/claude.cmd",
		"C:/Users/u/AppData/Local/Temp/go-build123/", "C:/Program Files/nodejs/node.exe")
	pol := &profiles.Policy{Name: "claude", Mode: profiles.ModeEnforce}
	pol.Filesystem.Write = rules("C:/Users/u/src/proj", "C:/Users/u/.claude", "C:/Users/u/AppData/Local/Temp", "/tmp")
	pol.Filesystem.Read = rules(`C:\Users\u\.gitconfig`, "/usr", "C:/Users/u/.ssh", "C:/Users/u/missing")
	pol.Filesystem.Deny = rules("C:/Users/u/.claude/.credentials.json", "C:/Users/u/.ssh/**", "/etc/shadow")
	pol.Filesystem.Protect = rules("C:/Users/u/src/proj/.git/hooks", "C:/Users/u/src/proj/.git/config", "C:/Users/u/src/proj/.envrc")
	pol.Exec.Allow = rules("C:/Users/u/AppData/Local/Temp/go-build*/**", "/usr/bin/**")
	pol.Resources = profiles.Resources{MemoryBytes: 1 << 30}
	pol.DefaultResources = profiles.Resources{Pids: 100}

	got := planFor(pol, `C:\Users\u\AppData\Roaming\npm\claude.cmd`, `C:\Users\u`, h, winPath).text()
	want := `container agentrun.claude
write       C:\Users\u\src\proj (inherited)
write       C:\Users\u\.claude (inherited)
write+exec  C:\Users\u\AppData\Local\Temp (inherited)
read        C:\Users\u\.gitconfig
read+exec   C:\Users\u\AppData\Roaming\npm (inherited)
deny all    C:\Users\u\.claude\.credentials.json
deny write  C:\Users\u\src\proj\.git\hooks (inherited)
deny delete C:\Users\u\src\proj\.git
deny write  C:\Users\u\src\proj\.git\config
deny delete C:\Users\u\src\proj\.git
traverse    C:\Users\u
traverse    C:\Users\u\AppData
traverse    C:\Users\u\AppData\Local
traverse    C:\Users\u\AppData\Roaming
traverse    C:\Users\u\src
limits      memory 1073741824, processes 100, milli-CPU 0
network     false, audit false, 4 rules without a Windows path
note        C:/Users/u/AppData/Local/Temp/go-build*/** (t.yaml:1): run allowed in all of C:\Users\u\AppData\Local\Temp (an ACL names a directory, not a pattern)
note        C:\Users\u\.ssh: not granted, C:/Users/u/.ssh/** (t.yaml:2) denies it
note        C:\Users\u\AppData\Roaming\npm: read and run, the agent's own program's directory (no rule names it)
`
	if got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
}

// TestPlanProgramInSystemDir: a program under Program Files needs no grant (every
// AppContainer may read and run it); nor one a rule already reaches.
func TestPlanProgramInSystemDir(t *testing.T) {
	h := newFakeHost("C:/Program Files/nodejs/node.exe", "C:/Users/u/proj/tool.exe")
	pol := &profiles.Policy{Name: "x"}
	pol.Filesystem.Write = rules("C:/Users/u/proj")
	for _, exe := range []string{`C:\Program Files\nodejs\node.exe`, `c:\windows\system32\cmd.exe`, `C:\Users\u\proj\tool.exe`} {
		p := planFor(pol, exe, `C:\Users\u`, h, winPath)
		if len(p.Grants) != 1 {
			t.Errorf("%s: grants %v, want only the workspace's", exe, p.Grants)
		}
	}
}

// TestPlanInvariants checks every built-in profile's plan: no allow under a deny rule, every
// deny-write inside a write grant, every path a Windows path, a container of its own.
func TestPlanInvariants(t *testing.T) {
	seen := map[string]string{}
	for name, pol := range profilestest.Builtins(t, goldenEnv) {
		p := planFor(pol, `C:\Users\user\AppData\Roaming\npm\`+name+".cmd", `C:\Users\user`, goldenHost, standIn)
		if other, ok := seen[p.Container]; ok {
			t.Errorf("%s and %s share the container %s", name, other, p.Container)
		}
		seen[p.Container] = name
		var writes []string
		for _, g := range p.Grants {
			s := slashed(g.Path)
			if _, ok := winPath(s); !ok {
				t.Errorf("%s: grant on %q, not a Windows path", name, g.Path)
			}
			switch g.Access {
			case acl.Read, acl.ReadExecute, acl.Write, acl.WriteExecute:
				for _, d := range pol.Filesystem.Deny {
					dp, ok := standIn(d.Path)
					if ok && profiles.PatternCovers(strings.ToLower(dp), strings.ToLower(s)) {
						t.Errorf("%s: %s granted though %s denies it", name, g.Path, d.Pattern)
					}
				}
				if g.Access == acl.Write || g.Access == acl.WriteExecute {
					writes = append(writes, s)
				}
			case acl.DenyWrite, acl.DenyDelete:
				in := false
				for _, w := range writes {
					in = in || within(s, w) && s != w
				}
				if !in {
					t.Errorf("%s: %s on %s, outside every write grant", name, "deny", g.Path)
				}
			}
		}
	}
}

// goldenEnv is a Windows user's launch resolved with Unix stand-ins (profiles resolves Unix
// paths on this host), which standIn maps to the Windows home, workspace and temp.
var goldenEnv = profiles.Env{
	Home:       "/win/home",
	Workspace:  "/win/work",
	TmpDir:     "/win/tmp",
	ConfigHome: "/win/home/.config",
	DataHome:   "/win/home/.local/share",
	StateHome:  "/win/home/.local/state",
	CacheHome:  "/win/home/.cache",
}

// standIn maps goldenEnv's stand-ins to C:/Users/user, its src/project and its temp.
func standIn(p string) (string, bool) {
	for from, to := range map[string]string{"/win/home": "C:/Users/user", "/win/work": "C:/Users/user/src/project", "/win/tmp": "C:/Users/user/AppData/Local/Temp"} {
		if rest, ok := strings.CutPrefix(p, from); ok && (rest == "" || rest[0] == '/') {
			return winPath(to + rest)
		}
	}
	return "", false
}

// goldenHost is a Windows home with what the built-in profiles name.
var goldenHost = newFakeHost(
	"C:/Users/user/src/project/.git/hooks/", "C:/Users/user/src/project/.git/config", "C:/Users/user/src/project/.envrc",
	"C:/Users/user/src/project/.vscode/", "C:/Users/user/src/project/.env",
	"C:/Users/user/.gitconfig", "C:/Users/user/.config/git/", "C:/Users/user/.ssh/known_hosts", "C:/Users/user/.ssh/id_ed25519",
	"C:/Users/user/.aws/credentials", "C:/Users/user/.npmrc", "C:/Users/user/.npm/", "C:/Users/user/.cache/",
	"C:/Users/user/.claude/.credentials.json", "C:/Users/user/.claude/settings.json", "C:/Users/user/.claude/plugins/installed_plugins.json",
	"C:/Users/user/.claude.json", "C:/Users/user/.codex/auth.json", "C:/Users/user/.codex/config.toml",
	"C:/Users/user/.gemini/settings.json", "C:/Users/user/.gemini/oauth_creds.json",
	"C:/Users/user/.cargo/registry/", "C:/Users/user/.rustup/", "C:/Users/user/go/pkg/mod/",
	"C:/Users/user/AppData/Local/Temp/", "C:/Users/user/AppData/Roaming/npm/node_modules/")

// TestPlanGolden writes every built-in profile's plan for a fixed Windows home.
func TestPlanGolden(t *testing.T) {
	pols := profilestest.Builtins(t, goldenEnv)
	names := make([]string, 0, len(pols))
	for n := range pols {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		pol := pols[name]
		pol.DefaultResources = pol.Resources.Unstated(profiles.DefaultLimits)
		p := planFor(pol, `C:\Users\user\AppData\Roaming\npm\`+name+".cmd", `C:\Users\user`, goldenHost, standIn)
		profilestest.Golden(t, "platform/windows", name+".plan.golden", []byte(p.text()), *update)
	}
}

func TestWinPath(t *testing.T) {
	for in, want := range map[string]string{
		"C:/Users/u": "C:/Users/u", "c:/x/": "C:/x", "C:/": "C:/", "//srv/share/x": "//srv/share/x",
		"/usr": "", "C:x": "", "//srv": "", "relative": "", "": "", "///x/y": "",
	} {
		got, ok := winPath(in)
		if ok != (want != "") || got != want {
			t.Errorf("winPath(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for in, want := range map[string]string{"C:/a/b": "C:/a", "C:/a": "C:/", "C:/": "C:/", "//s/h/x": "//s/h"} {
		if got := parentOf(in); got != want {
			t.Errorf("parentOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestContainerName(t *testing.T) {
	if got := containerName("claude"); got != "agentrun.claude" {
		t.Errorf("claude: %q", got)
	}
	long := strings.Repeat("x", 80)
	a, b := containerName(long), containerName(long+"y")
	if len(a) > 64 || len(b) > 64 || a == b {
		t.Errorf("long names: %q, %q", a, b)
	}
	if c, d := containerName("my+profile"), containerName("my_profile"); c == d || strings.ContainsAny(c, "+") {
		t.Errorf("changed characters: %q, %q", c, d)
	}
	for _, n := range []string{"claude", long, "my+profile", "é"} {
		for _, r := range containerName(n) {
			if !(r == '-' || r == '_' || r == '.' || r < 0x80 && (isLetter(byte(r)) || r >= '0' && r <= '9')) {
				t.Errorf("containerName(%q) holds %q", n, r)
			}
		}
	}
}

// TestPlanRunnable: a program in a write root without exec.allow is refused before the launch,
// naming the root and the fix; one exec.allow covers, or outside every grant, runs.
func TestPlanRunnable(t *testing.T) {
	h := newFakeHost("C:/Users/u/proj/bin/tool.exe", "C:/Users/u/proj/.env", "C:/Users/u/AppData/Local/Temp/go-build1/b001/x.test.exe")
	pol := &profiles.Policy{Name: "dev"}
	pol.Filesystem.Write = rules("C:/Users/u/proj", "C:/Users/u/AppData/Local/Temp")
	pol.Filesystem.Deny = rules("C:/Users/u/proj/.env")
	pol.Exec.Allow = rules("C:/Users/u/AppData/Local/Temp/go-build*/**")
	for exe, want := range map[string]string{
		`C:\Users\u\proj\bin\tool.exe`:                            `C:\Users\u\proj\bin\tool.exe is in C:\Users\u\proj, which the profile dev lets the agent write but not run programs from`,
		`C:\Users\u\proj\.env`:                                    `denied to the agent by the profile dev`,
		`C:\Users\u\AppData\Local\Temp\go-build1\b001\x.test.exe`: "",
		`C:\Windows\System32\cmd.exe`:                             "",
		`C:\Users\u\AppData\Roaming\npm\claude.cmd`:               "",
	} {
		err := planFor(pol, exe, `C:\Users\u`, h, winPath).runnable(exe)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: %v, want %q", exe, err, want)
		}
	}
}

// FuzzPlan: any rule path, program and home plan without a panic, and every grant is a
// Windows path that lies where a rule or the program put it.
func FuzzPlan(f *testing.F) {
	for _, s := range []string{"C:/Users/u/proj", "c:\\x\\..\\y", "//srv/share/a/**", "C:/Users/u/.ssh/!(known_hosts|*.pub)", "/usr/bin/**", "C:", "C:/", "", "C:/a/*/b/**", "\x00", "C:/Users/u/proj/.git/hooks"} {
		f.Add(s, "C:/Users/u/proj/.git", `C:\Users\u\bin\tool.exe`)
	}
	h := newFakeHost("C:/Users/u/proj/.git/hooks/", "C:/Users/u/.ssh/id_rsa", "C:/Users/u/bin/tool.exe", "//srv/share/a/b")
	f.Fuzz(func(t *testing.T, write, protect, exe string) {
		pol := &profiles.Policy{Name: "fuzz"}
		pol.Filesystem.Write = rules(write)
		pol.Filesystem.Read = rules(protect, write+"/x")
		pol.Filesystem.Deny = rules(protect + "/*")
		pol.Filesystem.Protect = rules(protect)
		pol.Exec.Allow = rules(write + "/**")
		p := planFor(pol, exe, `C:\Users\u`, h, winPath)
		for _, g := range p.Grants {
			if _, ok := winPath(slashed(g.Path)); !ok {
				t.Fatalf("grant on %q, not a Windows path", g.Path)
			}
		}
		_ = p.runnable(exe)
	})
}
