package learn_test

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/builtin"
	"github.com/agentrun/agentrun/profiles/learn"
	"github.com/agentrun/agentrun/profiles/profilestest"
)

// env and opts are a fixed home, workspace and $TMPDIR, so results do not depend on the machine.
var (
	env  = profilestest.Env
	opts = learn.Options{Home: env.Home, Workspace: env.Workspace, TmpDir: env.TmpDir}
)

const extendsBase = "name: mine\nextends: [base]\n"

// policyOf resolves the user profile "mine", given as text, against the built-in profiles.
func policyOf(t *testing.T, mine string) *profiles.Policy {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mine.yaml"), []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := profiles.Load(builtin.FS, dir)
	if err != nil {
		t.Fatalf("loading:\n%s\n%v", mine, err)
	}
	e, err := c.Lookup("mine")
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Resolve(e, env)
	if err != nil {
		t.Fatalf("resolving:\n%s\n%v", mine, err)
	}
	return p
}

func file(op, path string, n int64) learn.Observation {
	return learn.Observation{Kind: events.KindFile, Op: op, Target: path, Count: n,
		Example: events.Event{Kind: events.KindFile, Op: op, Path: path, Verdict: events.WouldDeny}}
}

func program(path string, n int64) learn.Observation {
	return learn.Observation{Kind: events.KindExec, Op: "exec", Target: path, Count: n,
		Example: events.Event{Kind: events.KindExec, Op: "exec", Path: path, Verdict: events.WouldDeny}}
}

// flow is a connection to name (or, when name is "", to addr) on port.
func flow(proto, name, addr string, port uint16, n int64) learn.Observation {
	host := name
	if host == "" {
		host = addr
		if strings.Contains(addr, ":") {
			host = "[" + addr + "]"
		}
	}
	return learn.Observation{Kind: events.KindFlow, Op: proto, Target: host + ":" + strconv.Itoa(int(port)), Count: n,
		Example: events.Event{Kind: events.KindFlow, Name: name, Address: addr, Port: port, Protocol: proto, Verdict: events.WouldDeny}}
}

func lookup(name string, n int64) learn.Observation {
	return learn.Observation{Kind: events.KindDNS, Op: "A", Target: name, Count: n,
		Example: events.Event{Kind: events.KindDNS, Name: name, Protocol: "A", Verdict: events.Denied}}
}

// ruleLines writes rules as "section entry count" for comparison.
func ruleLines(rules []learn.Rule) []string {
	out := []string{}
	for _, r := range rules {
		out = append(out, fmt.Sprintf("%s %s %d", r.Section, r.Entry, r.Count))
	}
	return out
}

// checkRefusals compares refusals with want, "target: a piece of the reason".
func checkRefusals(t *testing.T, got []learn.Refusal, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("refusals = %+v, want %d: %q", got, len(want), want)
		return
	}
	for i, w := range want {
		target, why, _ := strings.Cut(w, ": ")
		if got[i].Target != target || !strings.Contains(got[i].Why, why) {
			t.Errorf("refusal %d = %s (%d): %s; want %s: …%s…", i, got[i].Target, got[i].Count, got[i].Why, target, why)
		}
	}
}

func TestProposeFiles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		profile string // the user's profile; extendsBase when empty
		obs     []learn.Observation
		want    []string
		refused []string
	}{{
		name: "read only",
		obs:  []learn.Observation{file("read", "/data/models/a.bin", 3)},
		want: []string{"filesystem.read /data/models/a.bin 3"},
	}, {
		name: "write covers its reads",
		obs:  []learn.Observation{file("read", "/data/db/x.sqlite", 2), file("write", "/data/db/x.sqlite", 1)},
		want: []string{"filesystem.write /data/db/x.sqlite 3"},
	}, {
		name: "three files make their directory",
		obs:  []learn.Observation{file("read", "/data/ref/a", 1), file("read", "/data/ref/b", 1), file("read", "/data/ref/c", 1)},
		want: []string{"filesystem.read /data/ref 3"},
	}, {
		name: "two files stay files",
		obs:  []learn.Observation{file("read", "/data/ref/a", 1), file("read", "/data/ref/b", 2)},
		want: []string{"filesystem.read /data/ref/a 1", "filesystem.read /data/ref/b 2"},
	}, {
		name: "three programs make DIR/* and their directory readable",
		obs:  []learn.Observation{program("/data/bin/a", 1), program("/data/bin/b", 1), program("/data/bin/c", 1)},
		want: []string{"exec.allow /data/bin/* 3", "filesystem.read /data/bin 3"},
	}, {
		name: "npm cache index cut above index-v5",
		obs:  []learn.Observation{file("create", "/home/user/.npm/_cacache/index-v5/1f/2a/0123456789abcdef0123456789abcdef", 4)},
		want: []string{"filesystem.write ~/.npm/_cacache 4"},
	}, {
		name: "go build cache cut above its fan-out directory",
		obs: []learn.Observation{
			file("write", "/home/user/.cache/go-build/ab/abcdef0123456789abcdef0123456789-d", 1),
			file("create", "/home/user/.cache/go-build/cd/cd0123456789abcdef0123456789abcd-a", 1),
		},
		want: []string{"filesystem.write ~/.cache/go-build 2"},
	}, {
		name: "versioned toolchain",
		obs:  []learn.Observation{program("/home/user/.nvm/versions/node/v20.11.0/bin/node", 5)},
		// base does not read the home: a program there needs its directory readable too.
		want: []string{"exec.allow ~/.nvm/versions/node/** 5", "filesystem.read ~/.nvm/versions/node 5"},
	}, {
		name: "python3.11 cut to its parent",
		obs:  []learn.Observation{file("read", "/data/envs/python3.11/lib/site.py", 1)},
		want: []string{"filesystem.read /data/envs 1"},
	}, {
		name: "random build directory in $TMPDIR becomes a glob",
		obs:  []learn.Observation{program("/tmp/go-build2837465128/b001/exe/main", 2)},
		want: []string{"exec.allow $TMPDIR/go-build*/** 2"},
	}, {
		name: "created file becomes its directory",
		obs:  []learn.Observation{file("create", "/home/user/.config/newtool/state-1.json", 1), file("write", "/home/user/.config/newtool/state-1.json", 2)},
		want: []string{"filesystem.write ~/.config/newtool 3"},
	}, {
		name: "created file in the home directory stays a file",
		obs:  []learn.Observation{file("create", "/home/user/notes.txt", 1)},
		want: []string{"filesystem.write ~/notes.txt 1"},
	}, {
		name: "created file directly in ~/.config stays a file",
		obs:  []learn.Observation{file("create", "/home/user/.config/tool.json", 1)},
		want: []string{"filesystem.write ~/.config/tool.json 1"},
	}, {
		name:    "no directory with a deny inside",
		profile: extendsBase + "filesystem:\n  deny: [/data/proj/secret]\n",
		obs:     []learn.Observation{file("write", "/data/proj/a", 1), file("write", "/data/proj/b", 1), file("write", "/data/proj/c", 1), file("read", "/data/proj/secret/key", 1)},
		want:    []string{"filesystem.write /data/proj/a 1", "filesystem.write /data/proj/b 1", "filesystem.write /data/proj/c 1"},
		refused: []string{"/data/proj/secret/key: denied by filesystem.deny /data/proj/secret (" + "/"},
	}, {
		name: "no directory directly under /",
		obs:  []learn.Observation{file("read", "/srvx/a", 1), file("read", "/srvx/b", 1), file("read", "/srvx/c", 1)},
		want: []string{"filesystem.read /srvx/a 1", "filesystem.read /srvx/b 1", "filesystem.read /srvx/c 1"},
	}, {
		name:    "entries with $WORKSPACE and ~",
		profile: "name: mine\nfilesystem:\n  read: [/usr]\n",
		obs: []learn.Observation{
			file("create", "/home/user/project/build/out.o", 1),
			file("read", "/home/user/.gitconfig", 1),
			file("write", "/tmp/agent.log", 1),
		},
		want: []string{"filesystem.read ~/.gitconfig 1", "filesystem.write $TMPDIR/agent.log 1", "filesystem.write $WORKSPACE/build 1"},
	}, {
		name: "covered rules merge into the wider one",
		obs:  []learn.Observation{file("create", "/data/cache/x", 1), file("read", "/data/cache/y", 2), file("read", "/data/cache/sub/z", 3)},
		want: []string{"filesystem.write /data/cache 6"},
	}, {
		name: "already allowed or not denied: nothing to learn",
		obs: []learn.Observation{
			file("read", "/usr/lib/libc.so.6", 1),
			{Kind: events.KindFile, Op: "read", Target: "/data/z", Count: 1, Example: events.Event{Verdict: events.Allowed}},
		},
		want: []string{},
	}, {
		name: "denied and protected paths are refused",
		obs: []learn.Observation{
			file("read", "/home/user/.ssh/id_ed25519", 2),
			file("write", "/home/user/.bashrc", 1),
			program("/home/user/.aws/bin/helper", 1),
			file("read", "/home/user/project/.env", 1),
		},
		want: []string{},
		refused: []string{
			"/home/user/.aws/bin/helper: denied by filesystem.deny ~/.aws (builtin/base.yaml:",
			"/home/user/.bashrc: protected (read-only) by filesystem.protect ~/.bashrc (builtin/base.yaml:",
			"/home/user/.ssh/id_ed25519: denied by filesystem.deny ~/.ssh/!(known_hosts|config|*.pub|*.sock) (builtin/base.yaml:",
			"/home/user/project/.env: deny always wins",
		},
	}, {
		// Claude Code's save of ~/.claude.json before CLAUDE_CONFIG_DIR: a temporary file
		// beside the target in the read-only home. A rule for ~/.claude.json.tmp.* would
		// compile to nothing (the profile refuses it), so none is proposed; a volatile name
		// in a writable directory still is.
		name: "temporary files beside a target in a read-only directory",
		obs: []learn.Observation{
			file("create", "/home/user/.claude.json.tmp.12.0439b672e861", 1),
			file("create", "/home/user/.claude.json.tmp.12.1e7479a4022c", 1),
		},
		want: []string{},
		refused: []string{
			"/home/user/.claude.json.tmp.12.0439b672e861: the agent makes these files in ~, which is not writable",
			"/home/user/.claude.json.tmp.12.1e7479a4022c: the agent makes these files in ~, which is not writable",
		},
	}, {
		name: "mktemp directory",
		obs:  []learn.Observation{file("create", "/data/run/tmp.Ab3dEf9xQz/out", 1)},
		want: []string{"filesystem.write /data/run 1"},
	}, {
		name: "observations filled in from their example",
		obs: []learn.Observation{
			{Kind: events.KindFile, Example: events.Event{Kind: events.KindFile, Op: "read", Path: "/data/models/b.bin", Verdict: events.Denied}},
			{Kind: events.KindFlow, Example: events.Event{Kind: events.KindFlow, Name: "api.example.com", Port: 8443, Protocol: "tcp", Verdict: events.WouldDeny}},
			{Kind: events.KindDNS, Example: events.Event{Kind: events.KindDNS, Name: "cdn.example.com.", Protocol: "AAAA", Verdict: events.WouldDeny}},
		},
		want: []string{"filesystem.read /data/models/b.bin 1", "network.allow api.example.com:8443 1", "network.allow cdn.example.com 1"},
	}, {
		name:    "targets too broad to allow",
		obs:     []learn.Observation{file("read", "/", 1), file("mkdir", "/home/user/.cache", 1), file("write", "/home/user/.config/tool/x", 1)},
		want:    []string{"filesystem.write ~/.config/tool/x 1"},
		refused: []string{"/: too broad", "/home/user/.cache: too broad to allow: a rule for ~/.cache covers everything"},
	}, {
		name:    "relative path",
		obs:     []learn.Observation{file("read", "data/x", 1)},
		want:    []string{},
		refused: []string{"data/x: not an absolute path"},
	}, {
		name:    "names a profile cannot spell",
		obs:     []learn.Observation{file("create", "/data/weird/[1].txt", 1), file("read", "/data/x[1]/a", 1)},
		want:    []string{"filesystem.write /data/weird 1"},
		refused: []string{"/data/x[1]/a: cannot be written in a profile"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			profile := tc.profile
			if profile == "" {
				profile = extendsBase
			}
			rules, refused := learn.Propose(policyOf(t, profile), tc.obs, opts)
			if got := ruleLines(rules); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("rules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			checkRefusals(t, refused, tc.refused)
		})
	}
}

func TestProposeNetwork(t *testing.T) {
	pol := policyOf(t, extendsBase+"network:\n  allow: [known.example.com, 198.51.100.0/24:22]\n")
	for _, tc := range []struct {
		name    string
		obs     []learn.Observation
		want    []string
		refused []string
	}{{
		name: "https",
		obs:  []learn.Observation{flow("tcp", "api.example.com", "203.0.113.1", 443, 2)},
		want: []string{"network.allow api.example.com 2"},
	}, {
		name: "another port",
		obs:  []learn.Observation{flow("tcp", "api.example.com", "203.0.113.1", 8443, 1)},
		want: []string{"network.allow api.example.com:8443 1"},
	}, {
		name: "one entry per host",
		obs:  []learn.Observation{flow("tcp", "api.example.com", "", 8443, 1), flow("tcp", "API.example.com.", "", 443, 1)},
		want: []string{"network.allow api.example.com:443,8443 2"},
	}, {
		name: "udp",
		obs:  []learn.Observation{flow("udp", "ntp.example.com", "", 123, 4)},
		want: []string{"network.udp ntp.example.com:123 4"},
	}, {
		name: "looked up, never connected",
		obs:  []learn.Observation{lookup("cdn.example.com", 3)},
		want: []string{"network.allow cdn.example.com 3"},
	}, {
		name: "lookup counted with its connection",
		obs:  []learn.Observation{lookup("api.example.com", 2), flow("tcp", "api.example.com", "", 8443, 1), lookup("ntp.example.com", 1), flow("udp", "ntp.example.com", "", 123, 1)},
		want: []string{"network.allow api.example.com:8443 3", "network.udp ntp.example.com:123 2"},
	}, {
		name: "addresses without names",
		obs:  []learn.Observation{flow("tcp", "", "203.0.113.7", 443, 1), flow("tcp", "", "203.0.113.8", 22, 1), flow("tcp", "", "2001:db8::5", 8443, 1)},
		want: []string{"network.allow 203.0.113.7/32 1", "network.allow 203.0.113.8/32:22 1", "network.allow [2001:db8::5/128]:8443 1"},
	}, {
		name: "already allowed",
		obs:  []learn.Observation{flow("tcp", "known.example.com", "", 443, 1), lookup("known.example.com", 1), flow("tcp", "", "198.51.100.9", 22, 1)},
		want: []string{},
	}, {
		name: "cloud metadata",
		obs: []learn.Observation{
			flow("tcp", "", "169.254.169.254", 80, 5),
			flow("tcp", "metadata.google.internal", "", 80, 1),
			lookup("metadata.google.internal", 1),
			flow("tcp", "innocent.example.com", "169.254.169.254", 80, 1),
			flow("tcp", "", "fd00:ec2::254", 80, 1),
		},
		want: []string{},
		refused: []string{
			"169.254.169.254:80: cloud metadata is always denied",
			"[fd00:ec2::254]:80: cloud metadata is always denied",
			"innocent.example.com:80: cloud metadata is always denied",
			"metadata.google.internal: cloud metadata is always denied",
			"metadata.google.internal:80: cloud metadata is always denied",
		},
	}, {
		name: "what a profile cannot say",
		obs:  []learn.Observation{flow("tcp", "localhost", "127.0.0.1", 8080, 1), lookup("7.113.0.203.in-addr.arpa", 1), flow("icmp", "", "203.0.113.9", 1, 1)},
		want: []string{},
		refused: []string{
			"203.0.113.9:1: TCP and UDP destinations only",
			"7.113.0.203.in-addr.arpa: reverse lookup",
			"localhost:8080: single-label name",
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			rules, refused := learn.Propose(pol, tc.obs, opts)
			if got := ruleLines(rules); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("rules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			checkRefusals(t, refused, tc.refused)
		})
	}
}

func TestProposeCovers(t *testing.T) {
	var obs []learn.Observation
	for _, f := range []string{"g", "b", "f", "a", "e", "d", "c"} {
		obs = append(obs, file("read", "/data/ref/"+f, 1))
	}
	obs = append(obs, file("read", "/data/ref/d", 9))
	rules, _ := learn.Propose(policyOf(t, extendsBase), obs, opts)
	if len(rules) != 1 {
		t.Fatalf("rules = %v, want one", ruleLines(rules))
	}
	r := rules[0]
	if want := []string{"/data/ref/a", "/data/ref/b", "/data/ref/c", "/data/ref/d", "/data/ref/e"}; !reflect.DeepEqual(r.Covers, want) {
		t.Errorf("covers = %v, want %v (sorted, at most %d)", r.Covers, want, learn.MaxCovers)
	}
	if r.Count != 16 || r.Example.Path != "/data/ref/d" {
		t.Errorf("count %d, example %s; want 16 and the most frequent target, /data/ref/d", r.Count, r.Example.Path)
	}
}

func TestProposeDeterministic(t *testing.T) {
	pol := policyOf(t, extendsBase)
	opts := opts
	opts.Guards = builtinGuards(t)
	obs := []learn.Observation{
		file("mkdir", "/home/user/.claude", 1), file("write", "/home/user/.claude/a", 1), file("read", "/home/user/.codex/x", 1),
		file("read", "/data/ref/a", 1), file("read", "/data/ref/b", 1), file("read", "/data/ref/c", 1),
		file("create", "/data/cache/x", 1), file("read", "/data/cache/y", 1),
		program("/data/bin/tool", 1), program("/home/user/.nvm/versions/node/v20.11.0/bin/node", 1),
		file("read", "/home/user/.ssh/id_rsa", 1), file("write", "/home/user/.profile", 1),
		flow("tcp", "b.example.com", "", 443, 1), flow("tcp", "a.example.com", "", 8443, 1), lookup("c.example.com", 1),
		flow("tcp", "", "169.254.169.254", 80, 1),
	}
	wantRules, wantRefused := learn.Propose(pol, obs, opts)
	for seed := range uint64(20) {
		shuffled := slices.Clone(obs)
		rand.New(rand.NewPCG(seed, 1)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		rules, refused := learn.Propose(pol, shuffled, opts)
		if !reflect.DeepEqual(rules, wantRules) || !reflect.DeepEqual(refused, wantRefused) {
			t.Fatalf("seed %d: a different order of observations gave different output:\n%v\n%v", seed, ruleLines(rules), ruleLines(wantRules))
		}
	}
	if !slices.IsSortedFunc(wantRules, func(a, b learn.Rule) int {
		return strings.Compare(a.Section+"\x00"+a.Entry, b.Section+"\x00"+b.Entry)
	}) {
		t.Errorf("rules not sorted by section and entry: %v", ruleLines(wantRules))
	}
	kept := 0
	for _, r := range wantRules {
		kept += len(r.Keeps)
		if !slices.IsSortedFunc(r.Keeps, func(a, b learn.Rule) int {
			return strings.Compare(a.Section+"\x00"+a.Entry, b.Section+"\x00"+b.Entry)
		}) {
			t.Errorf("%s keeps rules not sorted by section and entry: %v", r.Entry, keepLines([]learn.Rule{r}))
		}
	}
	if kept == 0 {
		t.Errorf("no rule keeps a guard: %v", ruleLines(wantRules))
	}
}

func rule(section, entry string) learn.Rule { return learn.Rule{Section: section, Entry: entry} }

const userProfile = `# My profile for the agent.
name: mine
extends: [base]   # the built-in base

# Files.
filesystem:
  read:
    - /srv/data   # data
  # Writes below.
  write:
  - $WORKSPACE/out

network:
  allow: [a.example.com, "b.example.com:80,443"]
env:
  pass: [FOO]   # for the tool
# The end.
`

func TestApply(t *testing.T) {
	for _, tc := range []struct {
		name  string
		src   string
		rules []learn.Rule
		want  string
	}{{
		name: "appends, keeping comments, blank lines and layout",
		src:  userProfile,
		rules: []learn.Rule{
			rule("filesystem.read", "/data/ref"),
			rule("filesystem.write", "~/.npm/_cacache"),
			rule("exec.allow", "~/.nvm/versions/node/**"),
			rule("network.allow", "api.example.com:8443"),
			rule("network.allow", "a.example.com:8443"),
			rule("network.udp", "ntp.example.com:123"),
		},
		want: `# My profile for the agent.
name: mine
extends: [base]   # the built-in base

# Files.
filesystem:
  read:
    - /srv/data   # data
    - /data/ref
  # Writes below.
  write:
  - $WORKSPACE/out
  - ~/.npm/_cacache

network:
  allow: ['a.example.com:443,8443', "b.example.com:80,443", 'api.example.com:8443']
  udp:
    - ntp.example.com:123
env:
  pass: [FOO]   # for the tool
exec:
  allow:
    - ~/.nvm/versions/node/**
# The end.
`,
	}, {
		name:  "flow style",
		src:   "name: mine\nfilesystem: {read: [/usr], deny: [/x]}\nexec: {allow: []}\n",
		rules: []learn.Rule{rule("filesystem.write", "$TMPDIR/a b"), rule("filesystem.read", "/srv"), rule("exec.allow", "/opt/t/*")},
		want:  "name: mine\nfilesystem: {read: [/usr, /srv], deny: [/x], write: [$TMPDIR/a b]}\nexec: {allow: [/opt/t/*]}\n",
	}, {
		name:  "new sections",
		src:   "name: mine\n",
		rules: []learn.Rule{rule("filesystem.read", "~"), rule("network.udp", "ntp.example.com:123")},
		want:  "name: mine\nfilesystem:\n  read:\n    - \"~\"\nnetwork:\n  udp:\n    - ntp.example.com:123\n",
	}, {
		name:  "empty and null values",
		src:   "name: mine\nfilesystem:\n  read:\n  write: ~\nexec:\n",
		rules: []learn.Rule{rule("filesystem.read", "/srv"), rule("filesystem.write", "/data"), rule("exec.allow", "/opt/t")},
		want:  "name: mine\nfilesystem:\n  read:\n    - /srv\n  write: [/data]\nexec:\n  allow:\n    - /opt/t\n",
	}, {
		name:  "a path written leaves read",
		src:   "name: mine\nfilesystem:\n  read:\n    - /srv\n    - ~/.config/tool/   # its settings\n  write: [/data]\n",
		rules: []learn.Rule{rule("filesystem.write", "~/.config/tool")},
		want:  "name: mine\nfilesystem:\n  read:\n    - /srv\n  write: [/data, ~/.config/tool]\n",
	}, {
		name:  "the only path read leaves read",
		src:   "name: mine\nfilesystem:\n  read:\n    - ~/.config/tool\n  write:\n    - /data\n",
		rules: []learn.Rule{rule("filesystem.write", "~/.config/tool")},
		want:  "name: mine\nfilesystem:\n  write:\n    - /data\n    - ~/.config/tool\n",
	}, {
		name:  "already there in another spelling",
		src:   "name: mine\nfilesystem:\n  read: [\"$HOME/.cache/x/\"]\nnetwork:\n  allow:\n    - api.example.com:443,8443\n    - 203.0.113.7\n",
		rules: []learn.Rule{rule("filesystem.read", "~/.cache/x"), rule("network.allow", "api.example.com:8443"), rule("network.allow", "203.0.113.7/32")},
		want:  "name: mine\nfilesystem:\n  read: [\"$HOME/.cache/x/\"]\nnetwork:\n  allow:\n    - api.example.com:443,8443\n    - 203.0.113.7\n",
	}, {
		name:  "read already written",
		src:   "name: mine\nfilesystem:\n  write: [~/.cache/tool]\n",
		rules: []learn.Rule{rule("filesystem.read", "$HOME/.cache/tool")},
		want:  "name: mine\nfilesystem:\n  write: [~/.cache/tool]\n",
	}, {
		name:  "multi-line flow list and commented-out items",
		src:   "name: mine\nfilesystem:\n  read: [\n    /a,   # first\n    '/b',\n  ]\n  write:\n    - /c\n    # - /d\n  # protect: [/e]\n",
		rules: []learn.Rule{rule("filesystem.read", "/f"), rule("filesystem.write", "/g")},
		want:  "name: mine\nfilesystem:\n  read: [\n    /a,   # first\n    '/b', /f,\n  ]\n  write:\n    - /c\n    - /g\n    # - /d\n  # protect: [/e]\n",
	}, {
		name:  "a comment continued on the next line stays with its item",
		src:   "name: mine\nexec:\n  allow:\n    - /opt/a/**   # a long comment\n                  # that goes on\n\n# Network.\n",
		rules: []learn.Rule{rule("exec.allow", "/opt/b")},
		want:  "name: mine\nexec:\n  allow:\n    - /opt/a/**   # a long comment\n                  # that goes on\n    - /opt/b\n\n# Network.\n",
	}, {
		name:  "a path written leaves a flow read list",
		src:   "name: mine\nfilesystem:\n  read: [/srv, '~/.config/tool', \"/x\"]   # read\n",
		rules: []learn.Rule{rule("filesystem.write", "~/.config/tool"), rule("filesystem.read", "/y")},
		want:  "name: mine\nfilesystem:\n  read: [/srv, \"/x\", /y]   # read\n  write:\n    - ~/.config/tool\n",
	}, {
		name:  "quotes, brackets and comments inside flow text",
		src:   "name: mine\nfilesystem: {read: [\"/a,b]\", 'it''s'], # the reads\n  deny: [/x]}\n",
		rules: []learn.Rule{rule("filesystem.write", "/w")},
		want:  "name: mine\nfilesystem: {read: [\"/a,b]\", 'it''s'], # the reads\n  deny: [/x], write: [/w]}\n",
	}, {
		name:  "a new port joins a quoted entry",
		src:   "name: mine\nnetwork:\n  allow:\n    - \"api.example.com\"   # the API\n    - '[2001:db8::1]:80'\n  udp: [\"ntp.example.com:123\"]\n",
		rules: []learn.Rule{rule("network.allow", "api.example.com:8443"), rule("network.allow", "[2001:db8::1/128]:443"), rule("network.udp", "ntp.example.com:124")},
		want:  "name: mine\nnetwork:\n  allow:\n    - api.example.com:443,8443   # the API\n    - '[2001:db8::1]:80,443'\n  udp: ['ntp.example.com:123,124']\n",
	}, {
		name:  "CRLF line endings",
		src:   "name: mine\r\nfilesystem:\r\n  read:\r\n    - /a\r\n",
		rules: []learn.Rule{rule("filesystem.read", "/b"), rule("exec.allow", "/opt/t")},
		want:  "name: mine\r\nfilesystem:\r\n  read:\r\n    - /a\r\n    - /b\r\nexec:\r\n  allow:\r\n    - /opt/t\r\n",
	}, {
		name:  "a layout the text edit does not handle is encoded",
		src:   "{name: mine}\n",
		rules: []learn.Rule{rule("filesystem.read", "/b")},
		want:  "{name: mine, filesystem: {read: [/b]}}\n",
	}, {
		name: "kept rules go to deny and protect, new lists after write",
		src:  userProfile,
		rules: []learn.Rule{{Section: learn.SectionWrite, Entry: "~/.claude", Keeps: []learn.Rule{
			rule("filesystem.deny", "~/.claude/.credentials.json"),
			rule("filesystem.protect", "~/.claude/settings.json"),
		}}, {Section: learn.SectionRead, Entry: "~/.claude-x", Keeps: []learn.Rule{
			rule("filesystem.deny", "~/.claude/.credentials.json"), // the same again: once
		}}},
		want: `# My profile for the agent.
name: mine
extends: [base]   # the built-in base

# Files.
filesystem:
  read:
    - /srv/data   # data
    - ~/.claude-x
  # Writes below.
  write:
  - $WORKSPACE/out
  - ~/.claude
  deny:
    - ~/.claude/.credentials.json
  protect:
    - ~/.claude/settings.json

network:
  allow: [a.example.com, "b.example.com:80,443"]
env:
  pass: [FOO]   # for the tool
# The end.
`,
	}, {
		name: "kept rules join existing deny and protect lists, an entry there is skipped",
		src:  "name: mine\nfilesystem:\n  deny:\n    - ~/.aws   # keys\n  # Protected.\n  protect: [\"$HOME/.claude/settings.json\"]\n",
		rules: []learn.Rule{{Section: learn.SectionWrite, Entry: "~/.claude", Keeps: []learn.Rule{
			rule("filesystem.deny", "~/.claude/.credentials.json"),
			rule("filesystem.protect", "~/.claude/hooks"),
			rule("filesystem.protect", "~/.claude/settings.json"),
		}}},
		want: "name: mine\nfilesystem:\n  deny:\n    - ~/.aws   # keys\n    - ~/.claude/.credentials.json\n  # Protected.\n  protect: [\"$HOME/.claude/settings.json\", ~/.claude/hooks]\n  write:\n    - ~/.claude\n",
	}, {
		name:  "no newline at the end",
		src:   "name: mine\nfilesystem:\n  read:\n  - /usr",
		rules: []learn.Rule{rule("filesystem.read", "/srv")},
		want:  "name: mine\nfilesystem:\n  read:\n  - /usr\n  - /srv",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := learn.Apply([]byte(tc.src), tc.rules)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s\ndiff:\n%s", got, tc.want, learn.Diff("want", "got", []byte(tc.want), got))
			}
			again, err := learn.Apply(got, tc.rules)
			if err != nil {
				t.Fatal(err)
			}
			if string(again) != string(got) {
				t.Errorf("applying twice changed the profile again:\n%s", learn.Diff("once", "twice", got, again))
			}
		})
	}
}

// TestApplyBuiltinProfiles adds rules to each built-in profile, real files with comments
// and several layouts: the result parses, holds the entries, and differs from the file by
// added lines only.
func TestApplyBuiltinProfiles(t *testing.T) {
	files, err := fs.Glob(builtin.FS, "*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("built-in profiles: %v, %v", files, err)
	}
	rules := []learn.Rule{
		rule("filesystem.read", "/data/ref"),
		rule("filesystem.write", "~/.cache/newtool"),
		rule("exec.allow", "/data/tools/*"),
		rule("network.allow", "api.example.com:8443"),
		rule("network.udp", "ntp.example.com:123"),
	}
	for _, name := range files {
		t.Run(name, func(t *testing.T) {
			src, err := fs.ReadFile(builtin.FS, name)
			if err != nil {
				t.Fatal(err)
			}
			rules := rules
			out, err := learn.Apply(src, rules)
			if errors.Is(err, learn.ErrNetworkNone) {
				rules = rules[:3]
				out, err = learn.Apply(src, rules)
			}
			if err != nil {
				t.Fatal(err)
			}
			f, err := profiles.Parse(name, out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			lists := map[string][]profiles.Scalar{"filesystem.read": f.Filesystem.Read, "filesystem.write": f.Filesystem.Write, "exec.allow": f.Exec.Allow}
			if f.Network != nil {
				lists["network.allow"], lists["network.udp"] = f.Network.Allow, f.Network.UDP
			}
			for _, r := range rules {
				if !slices.ContainsFunc(lists[r.Section], func(s profiles.Scalar) bool { return s.Value == r.Entry }) {
					t.Errorf("%s %s missing:\n%s", r.Section, r.Entry, out)
				}
			}
			d := learn.Diff(name, name, src, out)
			for _, l := range strings.Split(d, "\n")[2:] {
				if strings.HasPrefix(l, "-") {
					t.Errorf("a line of the file changed:\n%s", d)
					break
				}
			}
			if again, err := learn.Apply(out, rules); err != nil || string(again) != string(out) {
				t.Errorf("applying twice: %v\n%s", err, learn.Diff("once", "twice", out, again))
			}
		})
	}
}

func TestApplyNetworkNone(t *testing.T) {
	src := "name: mine\nextends: [base]\nnetwork: none\n"
	_, err := learn.Apply([]byte(src), []learn.Rule{rule("filesystem.read", "/srv"), rule("network.allow", "api.example.com")})
	if !errors.Is(err, learn.ErrNetworkNone) || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("error = %v; want ErrNetworkNone naming line 3", err)
	}
	if _, err := learn.Apply([]byte(src), []learn.Rule{rule("filesystem.read", "/srv")}); err != nil {
		t.Errorf("without network rules: %v", err)
	}
}

func TestApplyRejects(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		rules     []learn.Rule
		want      string
	}{
		{"unknown section", "name: mine\n", []learn.Rule{rule("filesystem.review", "/x")}, "unknown section"},
		{"not a mapping", "name: mine\nfilesystem: [/x]\n", []learn.Rule{rule("filesystem.read", "/x")}, "line 2: filesystem is not a mapping"},
		{"not a list", "name: mine\nfilesystem:\n  read: /x\n", []learn.Rule{rule("filesystem.read", "/y")}, "line 3: filesystem.read is not a list"},
		{"would not load", "name: mine\nfilesystem:\n  deny: [/data]\n", []learn.Rule{rule("filesystem.read", "/data/x")}, "would not load"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := learn.Apply([]byte(tc.src), tc.rules); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v; want one containing %q", err, tc.want)
			}
		})
	}
}

// TestLearnedProfileRoundTrip learns from a run, writes the profile, loads it again, and
// checks that enforce mode now allows what was learned and still denies what was refused.
func TestLearnedProfileRoundTrip(t *testing.T) {
	const mine = "# Mine.\nname: mine\nextends: [base]   # everything else\nfilesystem:\n  read:\n    - /data/store\n"
	obs := []learn.Observation{
		file("read", "/data/ref/a", 1), file("read", "/data/ref/b", 1), file("read", "/data/ref/c", 1),
		file("read", "/data/models/m.bin", 1),
		file("read", "/data/store/db", 2), file("write", "/data/store/db", 1),
		file("create", "/home/user/.npm/_cacache/index-v5/1f/2a/0123456789abcdef0123456789abcdef", 1),
		file("create", "/home/user/.config/newtool/state.json", 1),
		program("/home/user/.nvm/versions/node/v20.11.0/bin/node", 1),
		program("/tmp/go-build2837465128/b001/exe/main", 1),
		program("/data/tools/bin/lint", 1),
		flow("tcp", "api.example.com", "203.0.113.1", 8443, 1),
		flow("udp", "ntp.example.com", "", 123, 1),
		lookup("cdn.example.com", 1),
		flow("tcp", "", "203.0.113.7", 443, 1),
		file("read", "/home/user/.ssh/id_ed25519", 1),
		file("write", "/home/user/.bashrc", 1),
		flow("tcp", "", "169.254.169.254", 80, 1),
	}
	before := policyOf(t, mine)
	rules, refused := learn.Propose(before, obs, opts)
	if len(refused) != 3 {
		t.Errorf("refused = %+v, want the SSH key, .bashrc and the metadata address", refused)
	}
	out, err := learn.Apply([]byte(mine), rules)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "# Mine.\nname: mine\nextends: [base]   # everything else\n") {
		t.Errorf("the head of the profile changed:\n%s", out)
	}
	after := policyOf(t, string(out))
	if len(after.Warnings) > 0 {
		t.Errorf("the learned profile has warnings: %v\n%s", after.Warnings, out)
	}
	access := map[string]profiles.Access{"read": profiles.AccessRead, "exec": profiles.AccessExec}
	for _, o := range obs {
		a, ok := access[o.Op]
		if !ok {
			a = profiles.AccessWrite
		}
		if o.Kind != events.KindFile && o.Kind != events.KindExec {
			continue
		}
		isRefused := slices.ContainsFunc(refused, func(r learn.Refusal) bool { return r.Target == o.Target })
		if d := after.CheckFile(o.Target, a); d.Allow == isRefused {
			t.Errorf("%s %s after learning: allow = %v (%s; %s), refused = %v", a, o.Target, d.Allow, d.Rule, d.Reason, isRefused)
		}
	}
	// What the next run will do differently is allowed too.
	for _, next := range []struct {
		path string
		a    profiles.Access
	}{
		{"/home/user/.npm/_cacache/content-v2/sha512/ff/ee/aa", profiles.AccessWrite},
		{"/home/user/.nvm/versions/node/v22.1.0/bin/node", profiles.AccessExec},
		{"/tmp/go-build99887766/b001/exe/main", profiles.AccessExec},
		{"/home/user/.config/newtool/other.json", profiles.AccessWrite},
		{"/data/ref/d", profiles.AccessRead},
	} {
		if d := after.CheckFile(next.path, next.a); !d.Allow {
			t.Errorf("%s %s in the next run: denied (%s)", next.a, next.path, d.Reason)
		}
	}
	var allow, udp []string
	for _, r := range after.Network.Allow {
		allow = append(allow, r.String())
	}
	for _, r := range after.Network.UDP {
		udp = append(udp, r.String())
	}
	for _, w := range []string{"api.example.com:8443", "cdn.example.com:443", "203.0.113.7:443"} {
		if !slices.Contains(allow, w) {
			t.Errorf("network.allow = %v, want %s", allow, w)
		}
	}
	if !slices.Contains(udp, "ntp.example.com:123") {
		t.Errorf("network.udp = %v, want ntp.example.com:123", udp)
	}
	if again, _ := learn.Propose(after, obs, opts); len(again) != 0 {
		t.Errorf("learning again from the same run proposes more:\n%s", strings.Join(ruleLines(again), "\n"))
	}
}

func TestDiff(t *testing.T) {
	old := "name: mine\nfilesystem:\n  read:\n    - /usr\n  write:\n    - /data\nnetwork:\n  allow: [a.example.com]\nenv:\n  pass: [FOO]\nresources:\n  pids: 100\n"
	new := strings.Replace(old, "    - /usr\n", "    - /usr\n    - /srv\n", 1)
	new = strings.Replace(new, "  pids: 100\n", "  pids: 200\n", 1)
	want := `--- mine.yaml
+++ mine.yaml (learned)
@@ -2,6 +2,7 @@
 filesystem:
   read:
     - /usr
+    - /srv
   write:
     - /data
 network:
@@ -9,4 +10,4 @@
 env:
   pass: [FOO]
 resources:
-  pids: 100
+  pids: 200
`
	if got := learn.Diff("mine.yaml", "mine.yaml (learned)", []byte(old), []byte(new)); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := learn.Diff("a", "b", []byte(old), []byte(old)); got != "" {
		t.Errorf("equal texts: %q, want \"\"", got)
	}
	if got, want := learn.Diff("a", "b", []byte("x"), []byte("x\ny\n")), "--- a\n+++ b\n@@ -1 +1,2 @@\n-x\n\\ No newline at end of file\n+x\n+y\n"; got != want {
		t.Errorf("no newline at end: got\n%s\nwant\n%s", got, want)
	}
	if got, want := learn.Diff("a", "b", nil, []byte("x\n")), "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n"; got != want {
		t.Errorf("from nothing: got\n%q\nwant\n%q", got, want)
	}
}

// TestDiffPatches checks on random texts that the hunks, applied to the old text, give the
// new one.
func TestDiffPatches(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	lines := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = string(rune('a'+r.IntN(4))) + "\n"
		}
		return out
	}
	for i := range 300 {
		a := lines(r.IntN(30))
		b := slices.Clone(a)
		for range r.IntN(5) {
			at := r.IntN(len(b) + 1)
			switch r.IntN(3) {
			case 0:
				b = slices.Insert(b, at, lines(1+r.IntN(3))...)
			case 1:
				if at < len(b) {
					b = slices.Delete(b, at, min(len(b), at+1+r.IntN(3)))
				}
			default:
				if at < len(b) {
					b[at] = "z\n"
				}
			}
		}
		d := learn.Diff("a", "b", []byte(strings.Join(a, "")), []byte(strings.Join(b, "")))
		if got := patch(t, a, d); got != strings.Join(b, "") {
			t.Fatalf("case %d: patching\n%q\nwith\n%s\ngave\n%q\nwant\n%q", i, strings.Join(a, ""), d, got, strings.Join(b, ""))
		}
	}
}

// patch applies a unified diff of whole lines that all end in newlines.
func patch(t *testing.T, old []string, diff string) string {
	t.Helper()
	if diff == "" {
		return strings.Join(old, "")
	}
	var out []string
	at := 0 // lines of old used
	for _, l := range splitKeep(diff)[2:] {
		switch l[0] {
		case '@':
			var os, oc, ns, nc int
			if _, err := fmt.Sscanf(strings.ReplaceAll(strings.ReplaceAll(l, ",", " "), "@@", ""), " -%d %d +%d %d", &os, &oc, &ns, &nc); err != nil {
				// Counts of 1 are left out; read the start only.
				fmt.Sscanf(l, "@@ -%d", &os)
				oc = 1
			}
			start := os - 1
			if oc == 0 {
				start = os
			}
			out = append(out, old[at:start]...)
			at = start
		case ' ':
			if old[at] != l[1:] {
				t.Fatalf("context %q does not match old line %d %q", l, at+1, old[at])
			}
			out = append(out, old[at])
			at++
		case '-':
			at++
		case '+':
			out = append(out, l[1:])
		}
	}
	return strings.Join(append(out, old[at:]...), "")
}

func splitKeep(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, '\n')
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// FuzzApply checks that Apply never panics, and that on a valid profile it gives a valid
// profile holding the entries, and is idempotent.
func FuzzApply(f *testing.F) {
	f.Add([]byte(userProfile))
	f.Add([]byte("name: mine\nfilesystem: {read: [/usr], deny: [/x]}\nexec: {allow: []}\n"))
	f.Add([]byte("name: mine\nfilesystem:\n  read:\n  write: ~\nexec:\n"))
	f.Add([]byte("name: mine\nfilesystem:\n  read: [\n    /a,   # first\n    '/b',\n  ]\n"))
	f.Add([]byte("name: mine\nnetwork:\n  allow:\n    - \"api.example.com\"   # the API\n"))
	f.Add([]byte("{name: mine}"))
	rules := []learn.Rule{
		rule("filesystem.read", "/data/ref"),
		rule("filesystem.write", "/srv"),
		rule("exec.allow", "/opt/t/*"),
		rule("network.allow", "api.example.com:8443"),
		rule("network.udp", "ntp.example.com:123"),
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		out, err := learn.Apply(src, rules)
		if err != nil {
			return
		}
		if _, err := profiles.Parse("src", src); err != nil {
			return
		}
		if _, err := profiles.Parse("out", out); err != nil {
			t.Fatalf("valid profile became invalid: %v\n%s\n---\n%s", err, src, out)
		}
		again, err := learn.Apply(out, rules)
		if err != nil || string(again) != string(out) {
			t.Fatalf("not idempotent: %v\n%s", err, learn.Diff("once", "twice", out, again))
		}
	})
}
