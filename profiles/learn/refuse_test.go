package learn_test

import (
	"cmp"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/builtin"
	"github.com/agentrun/agentrun/profiles/learn"
)

// builtinGuards are the deny and protect rules of every built-in profile, as learn's command
// passes them.
func builtinGuards(t *testing.T) *profiles.FilesystemPolicy {
	t.Helper()
	c, err := profiles.Load(builtin.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	var pols []*profiles.Policy
	for _, e := range c.List() {
		p, err := c.Resolve(e, env)
		if err != nil {
			t.Fatalf("resolving %s: %v", e.Name(), err)
		}
		pols = append(pols, p)
	}
	return learn.GuardsOf(pols...)
}

// TestProposeRefusesPersistence: targets where a write (or a read) would let the agent reach
// beyond the sandbox are refused with their reason, whatever the observations say; the
// controls beside them are still proposed.
func TestProposeRefusesPersistence(t *testing.T) {
	guards := builtinGuards(t)
	own := profiles.PathRule{Path: "/home/user/.local/state/agentrun", Pattern: "$XDG_STATE_HOME/agentrun", Origin: profiles.OwnFilesOrigin}
	ownConfig := profiles.PathRule{Path: "/home/user/.config/agentrun", Pattern: "$XDG_CONFIG_HOME/agentrun", Origin: profiles.OwnFilesOrigin}
	for _, tc := range []struct {
		name    string
		profile string // extendsBase when empty
		home    string // opts.Home when empty
		obs     []learn.Observation
		want    []string
		refused []string
	}{{
		name: "the issue's reproduction: failed O_CREAT|O_EXCL opens in system directories",
		obs: []learn.Observation{
			file("create", "/usr/local/bin/git", 1),
			file("create", "/etc/apt/apt.conf.d/99agent", 1),
			file("create", "/etc/ld.so.conf.d/agent.conf", 1),
		},
		want: []string{},
		refused: []string{
			"/etc/apt/apt.conf.d/99agent: a system directory (/etc",
			"/etc/ld.so.conf.d/agent.conf: a system directory (/etc",
			"/usr/local/bin/git: a system directory (/usr",
		},
	}, {
		name: "other system code and configuration",
		obs: []learn.Observation{
			file("write", "/boot/grub/grub.cfg", 1),
			file("create", "/etc/profile.d/x.sh", 1),
			file("write", "/lib/systemd/system/x.service", 1),
			file("create", "/opt/tool/bin/tool", 1),
			file("create", "/root/.bashrc", 1),
			file("create", "/run/systemd/system/x.service", 1),
			file("create", "/sbin/x", 1),
			file("create", "/srv/www/index.php", 1),
			file("create", "/var/lib/dpkg/info/x.postinst", 1),
			file("create", "/var/spool/cron/crontabs/user", 1),
		},
		want: []string{},
		refused: []string{
			"/boot/grub/grub.cfg: a system directory (/boot",
			"/etc/profile.d/x.sh: a system directory (/etc",
			"/lib/systemd/system/x.service: a system directory (/lib",
			"/opt/tool/bin/tool: a system directory (/opt",
			"/root/.bashrc: a system directory (/root",
			"/run/systemd/system/x.service: a system directory (/run",
			"/sbin/x: a system directory (/sbin",
			"/srv/www/index.php: a system directory (/srv",
			"/var/lib/dpkg/info/x.postinst: a system directory (/var",
			"/var/spool/cron/crontabs/user: protected (read-only) by filesystem.protect /var/spool/cron (builtin/base.yaml",
		},
	}, {
		name: "shell start-up, autostart and services in the home",
		obs: []learn.Observation{
			file("write", "/home/user/.bashrc", 1),
			file("create", "/home/user/.config/autostart/x.desktop", 1),
			file("create", "/home/user/.config/systemd/user/x.service", 1),
			file("create", "/home/user/.local/bin/ls", 1),
			file("write", "/home/user/.profile", 1),
			file("write", "/home/user/.zshenv", 1),
		},
		want: []string{},
		refused: []string{
			"/home/user/.bashrc: protected (read-only) by filesystem.protect ~/.bashrc",
			"/home/user/.config/autostart/x.desktop: protected (read-only) by filesystem.protect ~/.config/autostart",
			"/home/user/.config/systemd/user/x.service: protected (read-only) by filesystem.protect ~/.config/systemd",
			"/home/user/.local/bin/ls: protected (read-only) by filesystem.protect ~/.local/bin",
			"/home/user/.profile: protected (read-only) by filesystem.protect ~/.profile",
			"/home/user/.zshenv: protected (read-only) by filesystem.protect ~/.zshenv",
		},
	}, {
		name:    "shell start-up refused through the guards where the profile has no protect rule",
		profile: "name: mine\nfilesystem:\n  read: [/usr]\n",
		obs:     []learn.Observation{file("write", "/home/user/.bashrc", 1), file("create", "/home/user/.config/systemd/user/x.service", 1)},
		want:    []string{},
		refused: []string{
			"/home/user/.bashrc: it starts programs outside the sandbox (shell start-up, autostart, services, git or agent settings), filesystem.protect ~/.bashrc (builtin/base.yaml",
			"/home/user/.config/systemd/user/x.service: it starts programs outside the sandbox",
		},
	}, {
		name: "git's control files and configuration",
		obs: []learn.Observation{
			file("create", "/home/user/other/.git/hooks/pre-commit", 1),
			file("write", "/home/user/other/.git/config", 1),
			file("write", "/home/user/.gitconfig", 1),
			file("write", "/home/user/.config/git/config", 1),
		},
		want: []string{},
		refused: []string{
			"/home/user/.config/git/config: git's configuration",
			"/home/user/.gitconfig: git's configuration",
			"/home/user/other/.git/config: git's control files",
			"/home/user/other/.git/hooks/pre-commit: git's control files",
		},
	}, {
		name: "agent settings that start programs, from another profile's protect list",
		obs: []learn.Observation{
			file("write", "/home/user/.claude/settings.json", 1),
			file("create", "/home/user/.codex/hooks.json", 1),
			file("mkdir", "/home/user/.claude", 1),
		},
		// The directory holding them is proposed with them protected (TestProposeKeeps).
		want: []string{"filesystem.write ~/.claude 1"},
		refused: []string{
			"/home/user/.claude/settings.json: filesystem.protect ~/.claude/settings.json (builtin/claude.yaml",
			"/home/user/.codex/hooks.json: filesystem.protect ~/.codex/hooks.json (builtin/codex.yaml",
		},
	}, {
		name:    "anything in or above exec.allow outside the workspace",
		profile: extendsBase + "exec:\n  allow: [/data/tools/bin/**]\n",
		obs: []learn.Observation{
			file("create", "/data/tools/bin/lint", 1),
			file("mkdir", "/data/tools", 1),
		},
		want: []string{},
		refused: []string{
			"/data/tools: programs run from there (exec.allow /data/tools/bin/**",
			"/data/tools/bin/lint: programs run from there (exec.allow /data/tools/bin/**",
		},
	}, {
		name:    "exec.allow in the home counts too",
		profile: extendsBase + "exec:\n  allow: [~/.npm-global/bin/**]\n",
		obs:     []learn.Observation{file("create", "/home/user/.npm-global/bin/tool", 1), file("mkdir", "/home/user/.npm-global", 1)},
		want:    []string{},
		refused: []string{
			"/home/user/.npm-global: programs run from there (exec.allow ~/.npm-global/bin/**",
			"/home/user/.npm-global/bin/tool: programs run from there (exec.allow ~/.npm-global/bin/**",
		},
	}, {
		name:    "a generalised directory over exec.allow is refused",
		profile: extendsBase + "exec:\n  allow: [/data/tools/bin/**]\n",
		obs:     []learn.Observation{file("write", "/data/tools/a", 1), file("write", "/data/tools/b", 1), file("write", "/data/tools/c", 1)},
		want:    []string{},
		refused: []string{
			"/data/tools/a: programs run from there",
			"/data/tools/b: programs run from there",
			"/data/tools/c: programs run from there",
		},
	}, {
		name:    "agentrun's own files",
		profile: extendsBase,
		obs: []learn.Observation{
			file("write", "/home/user/.local/state/agentrun/events.db", 1),
			file("create", "/home/user/.config/agentrun/profiles/claude.yaml", 1),
		},
		want: []string{},
		refused: []string{
			"/home/user/.config/agentrun/profiles/claude.yaml: denied by filesystem.deny $XDG_CONFIG_HOME/agentrun (agentrun's own files)",
			"/home/user/.local/state/agentrun/events.db: denied by filesystem.deny $XDG_STATE_HOME/agentrun (agentrun's own files)",
		},
	}, {
		name:    "secrets other profiles deny are not read",
		profile: "name: mine\nfilesystem:\n  read: [/usr]\n",
		obs: []learn.Observation{
			file("read", "/home/user/.aws/credentials", 1),
			file("read", "/home/user/.codex/auth.json", 1),
			file("read", "/home/user/.docker", 1),
		},
		// ~/.docker holds one: it is read with the secret denied (TestProposeKeeps).
		want: []string{"filesystem.read ~/.docker 1"},
		refused: []string{
			"/home/user/.aws/credentials: a secret, filesystem.deny ~/.aws (builtin/base.yaml",
			"/home/user/.codex/auth.json: a secret, filesystem.deny ~/.codex/auth.json (builtin/",
		},
	}, {
		name:    "controls: the workspace, caches, /var/tmp and data directories are still proposed",
		profile: "name: mine\nfilesystem:\n  read: [/usr]\n",
		obs: []learn.Observation{
			file("create", "/home/user/project/build/out.o", 1),
			file("create", "/home/user/.cache/foo/x", 1),
			file("write", "/var/tmp/agent/log", 1),
			file("read", "/home/user/.config/tool/config.toml", 1),
			file("read", "/etc/hosts", 1),
		},
		want: []string{
			"filesystem.read /etc/hosts 1",
			"filesystem.read ~/.config/tool/config.toml 1",
			"filesystem.write $WORKSPACE/build 1",
			"filesystem.write /var/tmp/agent/log 1",
			"filesystem.write ~/.cache/foo 1",
		},
	}, {
		name:    "control: accented and CJK names are spelled",
		profile: "name: mine\nfilesystem:\n  read: [/usr]\n",
		obs:     []learn.Observation{file("read", "/data/café/résumé.txt", 1), file("read", "/data/文档/报告.md", 1)},
		want:    []string{"filesystem.read /data/café/résumé.txt 1", "filesystem.read /data/文档/报告.md 1"},
	}, {
		name: "control: the home of root is the user's home, not a system directory",
		home: "/root",
		obs:  []learn.Observation{file("create", "/root/.cache/foo/x", 1)},
		want: []string{"filesystem.write ~/.cache/foo 1"},
	}, {
		name:    "a name with a newline never becomes a rule",
		profile: "name: mine\nfilesystem:\n  read: [/usr]\n",
		obs: []learn.Observation{
			file("create", "/home/user/.cache/x\n- /etc/a", 1),
			file("read", "/data/a\n    - /etc", 1),
			file("read", "/home/user/bidi-\u202ehs.txt", 1),
			file("read", "/home/user/csi-\x9b2J", 1),
			file("read", "/home/user/c1-\u009b2J", 1),
			file("read", "/home/user/zw-\u200b", 1),
			file("read", "/home/user/back\\slash", 1),
		},
		want: []string{},
		refused: []string{
			"/data/a\n    - /etc: cannot be written in a profile",
			"/home/user/.cache/x\n- /etc/a: cannot be written in a profile",
			"/home/user/back\\slash: cannot be written in a profile",
			"/home/user/bidi-\u202ehs.txt: cannot be written in a profile",
			"/home/user/c1-\u009b2J: cannot be written in a profile",
			"/home/user/csi-\x9b2J: cannot be written in a profile",
			"/home/user/zw-\u200b: cannot be written in a profile",
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			profile := tc.profile
			if profile == "" {
				profile = extendsBase
			}
			pol := policyOf(t, profile)
			pol.Filesystem.Deny = append(pol.Filesystem.Deny, own, ownConfig)
			o := opts
			o.Guards = guards
			if tc.home != "" {
				o.Home = tc.home
			}
			rules, refused := learn.Propose(pol, tc.obs, o)
			if got := ruleLines(rules); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("rules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			checkRefusals(t, refused, tc.refused)
		})
	}
}

// keepLines writes what each rule keeps as "section entry keeps section entry (why)".
func keepLines(rules []learn.Rule) []string {
	out := []string{}
	for _, r := range rules {
		for _, k := range r.Keeps {
			out = append(out, fmt.Sprintf("%s %s keeps %s %s (%s)", r.Section, r.Entry, k.Section, k.Entry, k.Why))
		}
	}
	return out
}

// TestProposeKeeps: a rule for a directory that holds another profile's secret or start-up
// file is proposed with that deny (and, for a write, protect) rule, so the profile names it
// too; a target such a rule covers is still refused.
func TestProposeKeeps(t *testing.T) {
	guards := builtinGuards(t)
	const claudeDeny = "filesystem.deny ~/.claude/.credentials.json (a secret, builtin/aider.yaml:"
	claudeProtects := []string{"agents", "commands", "hooks", "plugins/cache", "plugins/data", "plugins/installed_plugins.json",
		"plugins/known_marketplaces.json", "plugins/marketplaces", "plugins/repos", "settings.json", "settings.local.json", "skills"}
	writeKeeps := func(entry string) []string {
		out := []string{"filesystem.write " + entry + " keeps " + claudeDeny}
		for _, p := range claudeProtects {
			out = append(out, "filesystem.write "+entry+" keeps filesystem.protect ~/.claude/"+p+" (it starts programs outside the sandbox, builtin/claude.yaml:")
		}
		return out
	}
	tool := &profiles.FilesystemPolicy{
		Deny: []profiles.PathRule{
			{Path: "/home/user/.tool/secrets", Pattern: "~/.tool/secrets"},
			{Path: "/home/user/.tool/*.pem", Pattern: "~/.tool/*.pem"},
			{Path: "/home/user/.other/key", Pattern: "other/key"}, // not a valid entry
		},
		Protect: []profiles.PathRule{
			{Path: "/home/user/.tool/secrets/hook", Pattern: "~/.tool/secrets/hook"}, // the deny above holds it
			{Path: "/home/user/.tool/hooks", Pattern: "~/.tool/hooks"},
		},
	}
	for _, tc := range []struct {
		name    string
		profile string // extendsBase when empty
		guards  *profiles.FilesystemPolicy
		obs     []learn.Observation
		want    []string
		keeps   []string // "rule keeps section entry (why…", each a prefix of the line
		refused []string
	}{{
		name: "Claude Code's state directory, made and written, with aider's deny and claude's protect rules inside",
		obs: []learn.Observation{
			file("mkdir", "/home/user/.claude", 1),
			file("create", "/home/user/.claude/projects/-w/abc.jsonl", 1),
			file("write", "/home/user/.claude/history.jsonl", 2),
		},
		want:  []string{"filesystem.write ~/.claude 4"},
		keeps: writeKeeps("~/.claude"),
	}, {
		name:  "three files of the directory make it, with the same rules",
		obs:   []learn.Observation{file("write", "/home/user/.claude/a", 1), file("write", "/home/user/.claude/b", 1), file("write", "/home/user/.claude/c", 1)},
		want:  []string{"filesystem.write ~/.claude 3"},
		keeps: writeKeeps("~/.claude"),
	}, {
		name:  "a read rule keeps only the deny rules",
		obs:   []learn.Observation{file("read", "/home/user/.claude/a", 1), file("read", "/home/user/.claude/b", 1), file("read", "/home/user/.claude/c", 1)},
		want:  []string{"filesystem.read ~/.claude 3"},
		keeps: []string{"filesystem.read ~/.claude keeps " + claudeDeny},
	}, {
		name: "a target the guard covers is still refused, beside the rule that keeps it",
		obs: []learn.Observation{
			file("mkdir", "/home/user/.claude", 1),
			file("read", "/home/user/.claude/.credentials.json", 1),
			file("write", "/home/user/.claude/settings.json", 1),
		},
		want:  []string{"filesystem.write ~/.claude 1"},
		keeps: writeKeeps("~/.claude"),
		refused: []string{
			"/home/user/.claude/.credentials.json: a secret, filesystem.deny ~/.claude/.credentials.json (builtin/aider.yaml",
			"/home/user/.claude/settings.json: filesystem.protect ~/.claude/settings.json (builtin/claude.yaml",
		},
	}, {
		name:    "a guard the policy has already is not kept",
		profile: extendsBase + "filesystem:\n  deny: [~/.claude/.credentials.json]\n  protect: [~/.claude/plugins, ~/.claude/settings.json]\n",
		obs:     []learn.Observation{file("mkdir", "/home/user/.claude", 1)},
		want:    []string{"filesystem.write ~/.claude 1"},
		keeps: []string{
			"filesystem.write ~/.claude keeps filesystem.protect ~/.claude/agents (",
			"filesystem.write ~/.claude keeps filesystem.protect ~/.claude/commands (",
			"filesystem.write ~/.claude keeps filesystem.protect ~/.claude/hooks (",
			"filesystem.write ~/.claude keeps filesystem.protect ~/.claude/settings.local.json (",
			"filesystem.write ~/.claude keeps filesystem.protect ~/.claude/skills (",
		},
	}, {
		name:   "a protect rule inside a kept deny is not kept; a glob's literal base counts",
		guards: tool,
		obs:    []learn.Observation{file("mkdir", "/home/user/.tool", 1)},
		want:   []string{"filesystem.write ~/.tool 1"},
		keeps: []string{
			"filesystem.write ~/.tool keeps filesystem.deny ~/.tool/*.pem (a secret)",
			"filesystem.write ~/.tool keeps filesystem.deny ~/.tool/secrets (a secret)",
			"filesystem.write ~/.tool keeps filesystem.protect ~/.tool/hooks (it starts programs outside the sandbox)",
		},
	}, {
		name:    "a guard that is no valid entry refuses the rule",
		guards:  tool,
		obs:     []learn.Observation{file("read", "/home/user/.other", 1)},
		want:    []string{},
		refused: []string{"/home/user/.other: filesystem.deny other/key lies inside ~/.other"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			profile := cmp.Or(tc.profile, extendsBase)
			o := opts
			o.Guards = guards
			if tc.guards != nil {
				o.Guards = tc.guards
			}
			rules, refused := learn.Propose(policyOf(t, profile), tc.obs, o)
			if got := ruleLines(rules); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("rules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			got := keepLines(rules)
			ok := len(got) == len(tc.keeps)
			for i := 0; ok && i < len(got); i++ {
				ok = strings.HasPrefix(got[i], tc.keeps[i])
			}
			if !ok {
				t.Errorf("keeps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.keeps, "\n"))
			}
			checkRefusals(t, refused, tc.refused)
		})
	}
}

func TestOutsideWorkspace(t *testing.T) {
	for entry, want := range map[string]bool{"$WORKSPACE/build": false, "$WORKSPACE": false, "~/.cache/foo": true, "$TMPDIR/x": true, "/data/x": true, "$WORKSPACEX": true} {
		if got := (learn.Rule{Section: learn.SectionWrite, Entry: entry}).OutsideWorkspace(); got != want {
			t.Errorf("write %s: OutsideWorkspace = %v, want %v", entry, got, want)
		}
	}
	if (learn.Rule{Section: learn.SectionRead, Entry: "/data/x"}).OutsideWorkspace() {
		t.Error("a read rule widens write access")
	}
}

// TestApplyQuotesEntries: an entry is data in the profile: whatever it holds, it is one item
// of its list with exactly its value, or Apply refuses it; it never adds a second rule.
func TestApplyQuotesEntries(t *testing.T) {
	const src = "name: mine\nextends: [base]\nfilesystem:\n  write:\n    - ~/.cache/tool\n"
	for _, entry := range []string{
		"/data/a\n- /etc",
		"/data/a\n    - /etc",
		"/data/a\r\n    - /etc",
		"/data/a\u2028- /etc",
		"/data/a\u0085- /etc",
		"/data/a: b",
		"/data/a # - /etc",
		"/data/'a\"",
		"- /etc",
		"/data/a]\n  read: [/etc",
		"/data/{a, /etc}",
		"/data/a\t- /etc",
	} {
		out, err := learn.Apply([]byte(src), []learn.Rule{{Section: learn.SectionWrite, Entry: entry}})
		if err != nil {
			continue // refused: nothing written
		}
		var doc struct {
			Filesystem struct{ Write, Read []string }
		}
		if err := yaml.Unmarshal(out, &doc); err != nil {
			t.Errorf("entry %q: the result is not YAML: %v\n%s", entry, err, out)
			continue
		}
		if want := []string{"~/.cache/tool", entry}; !reflect.DeepEqual(doc.Filesystem.Write, want) || len(doc.Filesystem.Read) != 0 {
			t.Errorf("entry %q: write = %q, read = %q; want write %q\n%s", entry, doc.Filesystem.Write, doc.Filesystem.Read, want, out)
		}
	}
}

// TestLearnedKeepsRoundTrip: the profile learned from a run that wrote Claude Code's state
// directory lets the next run write it, and still denies the secret and protects the
// settings inside it, without warnings; learning again proposes nothing.
func TestLearnedKeepsRoundTrip(t *testing.T) {
	const mine = "# Mine.\nname: mine\nextends: [base]\nfilesystem:\n  deny:\n    - ~/.netrc-old   # an old one\n"
	obs := []learn.Observation{
		file("mkdir", "/home/user/.claude", 1),
		file("create", "/home/user/.claude/projects/-w/abc.jsonl", 1),
		file("read", "/home/user/.claude/.credentials.json", 1),
	}
	o := opts
	o.Guards = builtinGuards(t)
	rules, refused := learn.Propose(policyOf(t, mine), obs, o)
	if len(rules) != 1 || len(rules[0].Keeps) == 0 || len(refused) != 1 {
		t.Fatalf("rules %v keeping %v, refused %+v; want ~/.claude keeping its guards, and the credentials refused", ruleLines(rules), keepLines(rules), refused)
	}
	out, err := learn.Apply([]byte(mine), rules)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "    - ~/.netrc-old   # an old one\n    - ~/.claude/.credentials.json\n") {
		t.Errorf("the deny entry is not added after the existing one, comment kept:\n%s", out)
	}
	after := policyOf(t, string(out))
	if len(after.Warnings) > 0 {
		t.Errorf("the learned profile has warnings: %v\n%s", after.Warnings, out)
	}
	for _, c := range []struct {
		path  string
		a     profiles.Access
		allow bool
	}{
		{"/home/user/.claude/projects/-x/new.jsonl", profiles.AccessWrite, true},
		{"/home/user/.claude/history.jsonl", profiles.AccessWrite, true},
		{"/home/user/.claude/.credentials.json", profiles.AccessRead, false},
		{"/home/user/.claude/settings.json", profiles.AccessWrite, false},
		{"/home/user/.claude/settings.json", profiles.AccessRead, true},
		{"/home/user/.claude/plugins/cache/x/hooks.json", profiles.AccessWrite, false},
	} {
		if d := after.CheckFile(c.path, c.a); d.Allow != c.allow {
			t.Errorf("%s %s after learning: allow = %v (%s), want %v", c.a, c.path, d.Allow, d.Rule, c.allow)
		}
	}
	if again, _ := learn.Propose(after, obs, o); len(again) != 0 {
		t.Errorf("learning again from the same run proposes more:\n%s", strings.Join(ruleLines(again), "\n"))
	}
}
