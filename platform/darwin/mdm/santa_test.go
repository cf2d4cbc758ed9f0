package mdm

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/profilestest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const pkg = "platform/darwin/mdm"

// TestSantaGolden compiles every built-in profile for every user's home and checks the plist
// against its golden file and against Santa's documented keys.
func TestSantaGolden(t *testing.T) {
	for name, pol := range profilestest.Builtins(t, Env("", "")) {
		t.Run(name, func(t *testing.T) {
			res, err := CompileSanta(pol, SantaOptions{})
			if err != nil {
				if len(pol.Filesystem.Deny) == 0 {
					return // a fragment with nothing to protect
				}
				t.Fatal(err)
			}
			profilestest.Golden(t, pkg, "santa-"+name+".plist", res.Plist, *update)
			cfg := checkFAA(t, res.Plist)
			if want := pol.Mode == profiles.ModeAudit; anyAuditOnly(cfg) != want {
				t.Errorf("AuditOnly is not %v in mode %s", want, pol.Mode)
			}
		})
	}
}

func anyAuditOnly(cfg FAAConfig) bool {
	for _, it := range cfg.WatchItems {
		return it.Options.AuditOnly
	}
	return false
}

func TestSantaNotesSkipWorkspace(t *testing.T) {
	pol := profilestest.Builtins(t, Env("", ""))["claude"]
	res, err := CompileSanta(pol, SantaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(res.Notes, "\n")
	for _, want := range []string{"$WORKSPACE/.env (", "no workspace given", "~/.ssh/!(", "whole directory /Users/*/.ssh"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if strings.Contains(string(res.Plist), noWorkspace) {
		t.Errorf("the placeholder workspace reached the plist")
	}
}

func TestSantaRefusesWhatGlobCannotSay(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"/Users/ada/**/secret", "have no ** but at the end"},
		{"/Users/ada/x**", "have no ** but at the end"},
		{"/Users/ada/!(a|b)/key", "no negation !(...)"},
		{"/Users/ada/x!(a)", "must be a whole path element"},
	} {
		pol := &profiles.Policy{Name: "mine", Mode: profiles.ModeEnforce}
		pol.Filesystem.Deny = []profiles.PathRule{{Path: tc.path, Pattern: "~/" + tc.path[len("/Users/ada/"):], Origin: profiles.Pos{File: "mine.yaml", Line: 7, Col: 5}}}
		_, err := CompileSanta(pol, SantaOptions{Home: "/Users/ada"})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "mine.yaml:7:5") {
			t.Errorf("%s: err = %v, want %q naming the rule", tc.path, err, tc.want)
		}
	}
}

func TestSantaMapsGlobs(t *testing.T) {
	pol := &profiles.Policy{Name: "mine", Mode: profiles.ModeAudit}
	pol.Filesystem.Deny = []profiles.PathRule{
		{Path: "/Users/ada/.kube/**", Pattern: "~/.kube/**"},
		{Path: "/Users/ada/.config/tok_*", Pattern: "~/.config/tok_*"},
		{Path: "/Users/ada/.ssh/id_*", Pattern: "~/.ssh/id_*"},
	}
	res, err := CompileSanta(pol, SantaOptions{Home: "/Users/ada"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := checkFAA(t, res.Plist)
	secrets, ssh := cfg.WatchItems["agentrun.mine.secrets"], cfg.WatchItems["agentrun.mine.ssh"]
	want := []WatchPath{{Path: "/Users/ada/.kube/", IsPrefix: true}, {Path: "/Users/ada/.config/tok_*"}, {Path: "/Users/ada/.config/tok_*/", IsPrefix: true}}
	if fmt.Sprint(secrets.Paths) != fmt.Sprint(want) {
		t.Errorf("paths = %v, want %v", secrets.Paths, want)
	}
	if !secrets.Options.AuditOnly || secrets.Options.AllowReadAccess || len(secrets.Processes) != 0 {
		t.Errorf("secrets options = %+v, processes %v: want audit-only, reads watched, no process", secrets.Options, secrets.Processes)
	}
	if len(ssh.Processes) == 0 || ssh.Processes[0].BinaryPath != "/usr/bin/ssh" || !ssh.Processes[0].PlatformBinary {
		t.Errorf("ssh processes = %+v, want OpenSSH's as platform binaries", ssh.Processes)
	}
}

func TestSantaNothingToProtect(t *testing.T) {
	_, err := CompileSanta(&profiles.Policy{Name: "open"}, SantaOptions{})
	if err == nil || !strings.Contains(err.Error(), "denies no path") {
		t.Errorf("err = %v", err)
	}
}

func TestRuleNameFits(t *testing.T) {
	n := ruleName(strings.Repeat("a b", 40), "secrets")
	if !ruleNameRE().MatchString(n) {
		t.Errorf("rule name %q is not one Santa accepts", n)
	}
}
