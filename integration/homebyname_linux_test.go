package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/builtin"
	"github.com/agentrun/agentrun/profiles/profilestest"
)

// homeSecrets are secret-looking files in places no deny rule names: what a list of names
// misses. Under every built-in profile each must be absent (not merely unreadable).
var homeSecrets = func() []string {
	s := []string{
		".foo_token", ".acme_cli_secret", ".secrets", ".hidden-key",
		"Documents/passwords.txt", "Documents/bank/2024-statement.txt", "Desktop/api-keys.txt",
		"src/other/.env", "src/other/.env.production", "src/client-b/config/secrets.yml", "work/legacy/.env",
		"backup/prod.key", "backup/db-dump.sql", "keys/server-2019.pem", "certs/client.p12",
		".cache/acme/session.json", ".foo/credentials", ".tokens/forge.txt", ".vpn/client.ovpn",
		".wg/wg0.conf", ".mytool/auth.json", "notes/secrets.md", ".private/diary.txt",
		"old-laptop/.aws-backup/credentials",
	}
	for _, app := range []string{"acme", "zeta-cloud", "quux", "widgetco", "paystream", "dbtool", "chatops", "mailer", "deployer", "ticketing", "monitor", "backupd"} {
		s = append(s, ".config/"+app+"/credentials.json")
	}
	for _, app := range []string{"acme", "quux", "widgetco", "chatops"} {
		s = append(s, ".local/share/"+app+"/token")
	}
	return s
}()

// homeTwin is a file a profile names in the home: readable under every profile whose chain
// holds one of owners, absent under the others.
type homeTwin struct {
	path   string
	owners []string
}

var homeTwins = []homeTwin{
	{".gitconfig", []string{"base"}},
	{".config/git/config", []string{"base"}},
	{".inputrc", []string{"base"}},
	{".editorconfig", []string{"base"}},
	{".ssh/known_hosts", []string{"git"}},
	{".ssh/config", []string{"git"}},
	{".ssh/id_ed25519.pub", []string{"git"}}, // the fixture's
	{".npm/_cacache/x", []string{"node"}},
	{".npm-global/lib/x", []string{"node"}},
	{".nvm/alias/default", []string{"node"}},
	{".pyenv/version", []string{"python"}},
	{".local/lib/python3.11/site-packages/x.py", []string{"python"}},
	{".cache/pip/x", []string{"python"}},
	{"go/pkg/mod/x", []string{"go"}},
	{"go/bin/x", []string{"go"}},
	{".cache/go-build/x", []string{"go"}},
	{".cargo/bin/x", []string{"rust"}},
	{".cargo/registry/x", []string{"rust"}},
	{".rustup/settings.toml", []string{"rust"}},
	{".claude/settings.json", []string{"claude"}},
	{".claude/CLAUDE.md", []string{"claude", "opencode"}},
	{".claude/.claude.json", []string{"claude"}},
	{".codex/config.toml", []string{"codex"}},
	{".agents/skills/x", []string{"codex", "gemini"}},
	{".gemini/settings.json", []string{"gemini"}},
	{".aider.conf.yml", []string{"aider"}},
	{".aider/x", []string{"aider"}},
	{".config/opencode/opencode.json", []string{"opencode"}},
	{".local/share/opencode/x", []string{"opencode"}},
	{".local/state/opencode/x", []string{"opencode"}}, // state directories opencode's profile has made at launch
	{".cache/opencode/x", []string{"opencode"}},
}

// homeListed are the directories whose listing must hold exactly the named entries.
var homeListed = []string{".", ".config", ".local", ".local/share", ".cache", ".ssh", ".claude", "Documents", "src", ".config/acme"}

// TestHomeByName checks that under every built-in profile the home directory holds only what
// the profile names: a fake home with secret-looking files where no deny rule looks, none of
// them can be opened or listed, a listing of the home shows exactly the named paths, and what
// the profile names is readable. In audit mode, each secret read is a would-deny event.
func TestHomeByName(t *testing.T) {
	if len(homeSecrets) < 40 {
		t.Fatalf("only %d secrets; issue 14 asks for at least 40", len(homeSecrets))
	}
	cat, err := profiles.Load(builtin.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	asRootAndUser(t, func(t *testing.T, r *runner) {
		for _, p := range homeSecrets {
			writeOwned(t, r, filepath.Join(r.home, p), "secret "+p+"\n")
		}
		for _, tw := range homeTwins {
			if _, err := os.Stat(filepath.Join(r.home, tw.path)); err != nil {
				writeOwned(t, r, filepath.Join(r.home, tw.path), "twin "+tw.path+"\n")
			}
		}
		for _, e := range cat.List() {
			pol, err := cat.Resolve(e, profilestest.Env) // for its chain only
			if err != nil {
				t.Fatal(err)
			}
			profile, chain := e.Name(), pol.Chain
			if !contains(chain, "base") {
				// A fragment (git, node, …) is not run alone: as a profile extends it.
				profile = filepath.Join(filepath.Dir(r.home), "with-"+e.Name()+".yaml")
				if err := os.WriteFile(profile, []byte("name: with-"+e.Name()+"\nextends: [base, "+e.Name()+"]\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				chain = append([]string{"base"}, chain...)
			}
			t.Run(e.Name(), func(t *testing.T) { testHomeByName(t, r, profile, chain) })
		}
	})
}

func testHomeByName(t *testing.T, r *runner, profile string, chain []string) {
	t.Helper()
	inChain := map[string]bool{}
	for _, c := range chain {
		inChain[c] = true
	}
	var named []string // the twins this profile names
	for _, tw := range homeTwins {
		for _, o := range tw.owners {
			if inChain[o] {
				named = append(named, tw.path)
				break
			}
		}
	}
	// One run reads every file and lists every directory, printing one line for each.
	var script strings.Builder
	script.WriteString("cd ~ || exit 1\n")
	for _, p := range append(append([]string{}, homeSecrets...), twinPaths()...) {
		fmt.Fprintf(&script, "if cat %q >/dev/null 2>/tmp/e; then echo \"read %s: ok\"; else echo \"read %s: $(sed 's/.*: //' /tmp/e)\"; fi\n", p, p, p)
	}
	for _, d := range homeListed {
		fmt.Fprintf(&script, "if ls -A %q >/tmp/l 2>/tmp/e; then echo \"list %s: $(tr '\\n' ' ' </tmp/l)\"; else echo \"list %s: $(sed 's/.*: //' /tmp/e)\"; fi\n", d, d, d)
	}
	for _, mode := range []string{"enforce", "audit"} {
		evFile := eventsFile(t, r)
		args := append([]string{"--profile", profile}, runArgs(r, mode, evFile)...)
		if r.unprivate && profile == "ci" && !contains(args, "--allow-degraded") {
			args = append(args, "--allow-degraded") // ci's resource limits need cgroups a user lacks here; the view is the same
		}
		res := r.run(t, append(args, "--", "sh", "-c", script.String())...)
		if res.code != 0 {
			t.Fatalf("%s: %s", mode, res)
		}
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
			k, v, _ := strings.Cut(line, ": ")
			got[k] = strings.TrimSpace(v)
		}
		if mode == "enforce" {
			for _, p := range homeSecrets {
				if v := got["read "+p]; v != "No such file or directory" {
					t.Errorf("enforce: ~/%s: want absent (No such file or directory), got %q", p, v)
				}
			}
			for _, p := range twinPaths() {
				want := "No such file or directory"
				if contains(named, p) {
					want = "ok"
				}
				if v := got["read "+p]; v != want {
					t.Errorf("enforce: ~/%s: want %q, got %q", p, want, v)
				}
			}
			for _, d := range homeListed {
				want := "No such file or directory"
				if entries := namedEntries(named, d); len(entries) > 0 {
					want = strings.Join(entries, " ")
				}
				if v := got["list "+d]; v != want {
					t.Errorf("enforce: ls -A ~/%s: want %q, got %q", d, want, v)
				}
			}
			continue
		}
		// Audit mode: everything is there, and each secret read is recorded.
		reads := map[string]events.Event{}
		for _, e := range readEvents(t, evFile) {
			if e.Kind == events.KindFile && e.Op == "read" && e.Verdict == events.WouldDeny {
				reads[e.Path] = e
			}
		}
		for _, p := range homeSecrets {
			if v := got["read "+p]; v != "ok" {
				t.Errorf("audit: ~/%s: want readable, got %q", p, v)
			}
			e, ok := reads[filepath.Join(r.home, p)]
			switch {
			case !ok:
				t.Errorf("audit: reading ~/%s is no would-deny event", p)
			case e.Reason != "no filesystem rule covers it":
				t.Errorf("audit: ~/%s: reason %q, want %q", p, e.Reason, "no filesystem rule covers it")
			}
		}
		for _, p := range named {
			if e, ok := reads[filepath.Join(r.home, p)]; ok {
				t.Errorf("audit: reading ~/%s, which %s names, is a would-deny event: %s %s", p, profile, e.Rule, e.Reason)
			}
		}
	}
}

func twinPaths() []string {
	out := make([]string, len(homeTwins))
	for i, tw := range homeTwins {
		out[i] = tw.path
	}
	return out
}

// namedEntries is what a listing of dir (relative to the home) shows when only named is there:
// the next element of each named path beneath it, and the workspace in the home itself.
func namedEntries(named []string, dir string) []string {
	set := map[string]bool{}
	if dir == "." {
		set["project"] = true
	}
	prefix := dir + "/"
	if dir == "." {
		prefix = ""
	}
	for _, p := range named {
		if strings.HasPrefix(p, prefix) {
			set[strings.SplitN(strings.TrimPrefix(p, prefix), "/", 2)[0]] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
