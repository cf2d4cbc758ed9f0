package appcontrol

import (
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/profilestest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const pkg = "platform/windows/appcontrol"

// goldenOptions places the home and workspace, as an administrator would.
var goldenOptions = Options{Paths: []Mapping{
	{Linux: phHome, Windows: `C:\Users\ada`},
	{Linux: phWorkspace, Windows: `D:\src\app`},
}}

func TestAppLockerGolden(t *testing.T) {
	for name, pol := range profilestest.Builtins(t, Env()) {
		t.Run(name, func(t *testing.T) {
			res, err := CompileAppLocker(pol, goldenOptions)
			if err != nil {
				if len(pol.Exec.Allow) == 0 {
					return // a fragment allowing no program
				}
				t.Fatal(err)
			}
			profilestest.Golden(t, pkg, "applocker-"+name+".xml", res.XML, *update)
			var doc xAppLocker
			bad, err := strictDecode(res.XML, &doc)
			if err != nil {
				t.Fatal(err)
			}
			if len(bad) > 0 {
				t.Errorf("not in the documented schema: %v", bad)
			}
			if doc.Version != "1" || len(doc.Collections) == 0 {
				t.Errorf("version %q, %d collections", doc.Version, len(doc.Collections))
			}
			for _, c := range doc.Collections {
				if c.EnforcementMode != AuditOnly {
					t.Errorf("%s: EnforcementMode = %q, want AuditOnly", c.Type, c.EnforcementMode)
				}
				for _, r := range c.Rules {
					if !appLockerGUID.MatchString(r.ID) {
						t.Errorf("rule Id %q is not a lowercase GUID", r.ID)
					}
					if r.Action != "Allow" || r.Conditions.Path.Path == "" || r.UserOrGroupSid == "" {
						t.Errorf("rule %+v", r)
					}
				}
			}
		})
	}
}

func TestWDACGolden(t *testing.T) {
	for name, pol := range profilestest.Builtins(t, Env()) {
		t.Run(name, func(t *testing.T) {
			res, err := CompileWDAC(pol, goldenOptions)
			if err != nil {
				if len(pol.Exec.Allow) == 0 {
					return
				}
				t.Fatal(err)
			}
			profilestest.Golden(t, pkg, "wdac-"+name+".xml", res.XML, *update)
			var doc xSiPolicy
			bad, err := strictDecode(res.XML, &doc)
			if err != nil {
				t.Fatal(err)
			}
			if len(bad) > 0 {
				t.Errorf("not in the documented schema: %v", bad)
			}
			for _, id := range []string{doc.PolicyID, doc.BasePolicyID, doc.PlatformID} {
				if !wdacGUID.MatchString(id) {
					t.Errorf("%q is not a braced uppercase GUID", id)
				}
			}
			audit := false
			for _, r := range doc.Rules.Rule {
				audit = audit || r.Option == OptionAuditMode
			}
			if !audit {
				t.Errorf("no %q option", OptionAuditMode)
			}
			ids := map[string]bool{}
			for _, a := range doc.FileRules.Allow {
				ids[a.ID] = true
				if (a.FileName == "") == (a.FilePath == "") {
					t.Errorf("Allow %s: want exactly one of FileName and FilePath", a.ID)
				}
				if n := strings.Count(a.FilePath, "*"); n > 1 || n == 1 && !strings.HasSuffix(a.FilePath, "*") {
					t.Errorf("Allow %s: %q has a wildcard App Control does not take", a.ID, a.FilePath)
				}
			}
			user := false
			for _, s := range doc.SigningScenarios.Scenario {
				user = user || s.Value == ScenarioUser
				for _, r := range s.ProductSigners.FileRulesRef.Ref {
					if !ids[r.RuleID] {
						t.Errorf("scenario %d refers to no rule %s", s.Value, r.RuleID)
					}
				}
			}
			if !user {
				t.Errorf("no user-mode signing scenario (12)")
			}
		})
	}
}

func TestGUIDsAreStable(t *testing.T) {
	if a, b := guid("wdac", "claude"), guid("wdac", "claude"); a != b || a == guid("wdac", "codex") {
		t.Errorf("guid not deterministic per profile: %s %s", a, b)
	}
	if g := guid("x"); !appLockerGUID.MatchString(g) {
		t.Errorf("guid %q is not a version-5 GUID", g)
	}
}

func rule(pattern, path string) profiles.PathRule {
	return profiles.PathRule{Pattern: pattern, Path: path, Origin: profiles.Pos{File: "mine.yaml", Line: 9, Col: 7}}
}

func TestRefusesWhatWindowsPathsCannotSay(t *testing.T) {
	for _, tc := range []struct{ pattern, path, want string }{
		{"~/tools/v*/bin/**", phHome + "/tools/v*/bin/**", "one wildcard, at the end"},
		{"~/bin/tool-?", phHome + "/bin/tool-?", "one wildcard, at the end"},
		{"/srv/tools/**", "/srv/tools/**", "--windows-path /srv/tools="},
	} {
		pol := &profiles.Policy{Name: "mine"}
		pol.Exec.Allow = []profiles.PathRule{rule(tc.pattern, tc.path)}
		for _, compile := range []func(*profiles.Policy, Options) (*Result, error){CompileAppLocker, CompileWDAC} {
			_, err := compile(pol, goldenOptions)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "mine.yaml:9:7") || !strings.Contains(err.Error(), tc.pattern) {
				t.Errorf("%s: err = %v, want %q naming the rule", tc.pattern, err, tc.want)
			}
		}
	}
}

func TestMapping(t *testing.T) {
	m := mapper{user: goldenOptions.Paths, table: Toolchain, linuxHome: "/home/ada"}
	for _, tc := range []struct{ pattern, path, want string }{
		{"/usr/bin/**", "/usr/bin/**", `%WINDIR%\*`},
		{"/usr/local/go/**", "/usr/local/go/**", `%OSDRIVE%\Program Files\Go\*`},
		{"~/.local/bin/claude", phHome + "/.local/bin/claude", `C:\Users\ada\.local\bin\claude*`},
		{"~/.npm-global/**", phHome + "/.npm-global/**", `C:\Users\ada\AppData\Roaming\npm\*`},
		{"/usr/local/lib/node_modules/@x/y/**", "/usr/local/lib/node_modules/@x/y/**", `C:\Users\ada\AppData\Roaming\npm\node_modules\@x\y\*`},
		{"~/.ssh/id_*", phHome + "/.ssh/id_*", `C:\Users\ada\.ssh\id_*`},
		{"$WORKSPACE/**", phWorkspace + "/**", `D:\src\app\*`},
	} {
		got, _, err := m.windowsPattern(rule(tc.pattern, tc.path))
		if err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.pattern, got, err, tc.want)
		}
	}
	// A wildcard inside the path: left out, never widened to its directory.
	var lo errLeftOut
	if got, _, err := m.windowsPattern(rule("~/.pyenv/plugins/*/bin/**", phHome+"/.pyenv/plugins/*/bin/**")); !errors.As(err, &lo) || got != "" {
		t.Errorf("~/.pyenv/plugins/*/bin/**: %q, %v; want it left out", got, err)
	}
	if got, ok := m.mapExecutable("/home/ada/go/bin/gopls"); !ok || got != `C:\Users\ada\go\bin\gopls*` {
		t.Errorf("executable: %q %v", got, ok)
	}
}

func TestUnmappedHomeIsANote(t *testing.T) {
	pol := &profiles.Policy{Name: "mine"}
	pol.Exec.Allow = []profiles.PathRule{rule("/usr/bin/**", "/usr/bin/**"), rule("~/go/bin/**", phHome+"/go/bin/**")}
	res, err := CompileAppLocker(pol, Options{})
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(res.Notes, "\n")
	if !strings.Contains(notes, "no Windows path for ~") || !strings.Contains(notes, "~/go/bin/** (mine.yaml:9:7)") {
		t.Errorf("notes = %s", notes)
	}
	if strings.Contains(string(res.XML), phHome) {
		t.Errorf("a placeholder reached the policy")
	}
}

func TestExecutablesFromEvents(t *testing.T) {
	pol := &profiles.Policy{Name: "mine"}
	pol.Exec.Allow = []profiles.PathRule{rule("/usr/bin/**", "/usr/bin/**")}
	o := goldenOptions
	o.LinuxHome = "/home/ada"
	o.Executables = []Executable{{Path: "/usr/bin/git", Count: 3}, {Path: "/home/ada/go/bin/gopls", Count: 2}, {Path: "/srv/x", Count: 1}}
	res, err := CompileWDAC(pol, o)
	if err != nil {
		t.Fatal(err)
	}
	x := string(res.XML)
	if !strings.Contains(x, `FilePath="C:\Users\ada\go\bin\gopls*"`) || strings.Contains(x, `git*`) || strings.Count(x, "FilePath=") != 2 {
		t.Errorf("policy:\n%s", x)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "/srv/x") {
		t.Errorf("notes lack the unplaced program: %v", res.Notes)
	}
}

func TestParseMapping(t *testing.T) {
	m, err := ParseMapping(`~=C:\Users\ada\`)
	if err != nil || m != (Mapping{phHome, `C:\Users\ada`}) {
		t.Errorf("%+v %v", m, err)
	}
	for _, bad := range []string{"~", "rel=C:\\x", "/a=relative", "/a=C:\\*", "/a/*=C:\\x"} {
		if _, err := ParseMapping(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
