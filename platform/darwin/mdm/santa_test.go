package mdm

import (
	"flag"
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
