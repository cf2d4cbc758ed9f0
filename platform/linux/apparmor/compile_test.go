package apparmor

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/profilestest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	profilestest.Golden(t, "platform/linux/apparmor", name, got, *update)
}

// goldenEnv is the fixed launch the golden files are resolved for, so they do not depend on
// this machine.
var goldenEnv = profilestest.Env

// builtinPolicies resolves every built-in profile (fragments included) against goldenEnv,
// plus claude in audit mode, by golden name.
func builtinPolicies(t *testing.T) map[string]*profiles.Policy {
	t.Helper()
	out := profilestest.Builtins(t, goldenEnv)
	audit := *out["claude"]
	audit.Mode = profiles.ModeAudit
	out["claude-audit"] = &audit
	return out
}

// TestCompileAppArmorGolden compiles every built-in profile; the goldens are what
// TestAppArmorParser hands to apparmor_parser.
func TestCompileAppArmorGolden(t *testing.T) {
	for name, pol := range builtinPolicies(t) {
		t.Run(name, func(t *testing.T) {
			out, err := Compile(pol)
			if err != nil {
				t.Fatal(err)
			}
			s := string(out)
			for _, want := range []string{
				"\nabi <abi/3.0>,\n", "\ninclude <tunables/global>\n", "\n  include <abstractions/base>\n",
				"\n  audit deny /etc/shadow* mrwlkx,\n", "\n  audit deny @{HOME}/.ssh/id_* wl,\n",
				"\n  deny ptrace (trace),\n", "\n  signal (send, receive) peer=" + ProfileName(pol) + ",\n",
			} {
				if !strings.Contains(s, want) {
					t.Errorf("missing %q", strings.TrimSpace(want))
				}
			}
			flags := "attach_disconnected,mediate_deleted"
			if pol.Mode == profiles.ModeAudit {
				flags = "complain," + flags
			}
			if want := "\nprofile " + ProfileName(pol) + " flags=(" + flags + ") {\n"; !strings.Contains(s, want) {
				t.Errorf("missing %q", strings.TrimSpace(want))
			}
			// The SSH keys are denied by a negation, which names what exists at compile
			// time (TestCompileAppArmorNegation); /home/user has none.
			if pol.Chain[0] == "base" && !strings.Contains(s, "\n  # ~/.ssh/!(known_hosts|config|*.pub|*.sock) (builtin/base.yaml:") {
				t.Errorf("the SSH keys' rule is missing")
			}
			golden(t, name+".apparmor.golden", out)
		})
	}
}

// TestCompileAppArmorRules checks the mapping of each kind of rule.
func TestCompileAppArmorRules(t *testing.T) {
	origin := profiles.Pos{File: "t.yaml", Line: 3, Col: 5}
	rule := func(pattern, path string) []profiles.PathRule {
		return []profiles.PathRule{{Path: path, Pattern: pattern, Origin: origin}}
	}
	net := profiles.NetworkPolicy{Allow: []profiles.NetRule{{}}}
	tests := []struct {
		name    string
		pol     profiles.Policy
		want    []string // lines, without leading spaces or comments
		notWant []string
	}{
		{
			name:    "read",
			pol:     profiles.Policy{Filesystem: profiles.FilesystemPolicy{Read: rule("/usr", "/usr")}},
			want:    []string{"/usr{,/**} mrk,", "network unix,", "network inet stream,", "network netlink raw,", "deny network inet raw,", "deny network packet,"},
			notWant: []string{"capability net_admin,", "/dev/net/tun rw,", "flags=(complain"},
		},
		{
			name: "write under home is owner",
			pol: profiles.Policy{Filesystem: profiles.FilesystemPolicy{Write: append(rule("~/.npm", "/home/u/.npm"),
				rule("$WORKSPACE", "/home/u/w")...)}},
			want: []string{"owner /home/u/.npm{,/**} rwlk,", "/home/u/w{,/**} rwlk,"},
		},
		{
			name: "protect",
			pol:  profiles.Policy{Filesystem: profiles.FilesystemPolicy{Protect: rule("~/.bashrc", "/home/u/.bashrc")}},
			want: []string{"/home/u/.bashrc{,/**} mrk,", "deny /home/u/.bashrc{,/**} wl,"},
		},
		{
			name: "deny and exec",
			pol: profiles.Policy{
				Filesystem: profiles.FilesystemPolicy{Deny: rule("~/.ssh/*.pem", "/home/u/.ssh/*.pem")},
				Exec:       profiles.ExecPolicy{Allow: append(rule("/usr/bin/**", "/usr/bin/**"), rule("$TMPDIR/go-build*/**", "/tmp/go-build*/**")...), Deny: rule("/usr/bin/sudo", "/usr/bin/sudo")},
			},
			want: []string{"deny /home/u/.ssh/*.pem{,/**} mrwlkx,", "/usr/bin{,/**} mrix,", "/tmp/go-build*/** mrix,", "deny /usr/bin/sudo{,/**} mx,"},
		},
		{
			name:    "network",
			pol:     profiles.Policy{Network: net},
			want:    []string{"network inet stream,", "network inet6 stream,", "network inet dgram,", "network inet6 dgram,", "network unix,", "capability net_admin,", "capability setpcap,", "/dev/net/tun rw,"},
			notWant: []string{"deny network raw,"}, // would deny routing netlink too
		},
		{
			name: "audit",
			pol: profiles.Policy{Name: "x", Mode: profiles.ModeAudit, Filesystem: profiles.FilesystemPolicy{
				Deny: rule("/secret", "/secret"), Protect: rule("/etc/hosts", "/etc/hosts")}},
			want: []string{"profile agentrun-x flags=(complain,attach_disconnected,mediate_deleted) {", "audit deny /secret{,/**} mrwlkx,", "audit deny /etc/hosts{,/**} wl,"},
		},
		{
			name: "root",
			pol:  profiles.Policy{Filesystem: profiles.FilesystemPolicy{Read: append(rule("/", "/"), rule("/**", "/**")...)}},
			want: []string{"/{,**} mrk,"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Compile(&tc.pol)
			if err != nil {
				t.Fatal(err)
			}
			lines := map[string]bool{}
			for _, l := range strings.Split(string(out), "\n") {
				l, _, _ = strings.Cut(strings.TrimSpace(l), " #")
				lines[strings.TrimSpace(l)] = true
			}
			for _, w := range tc.want {
				if !lines[w] {
					t.Errorf("missing %q in\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if lines[w] || strings.Contains(string(out), w) {
					t.Errorf("unexpected %q", w)
				}
			}
		})
	}
}

func TestAppArmorProfileName(t *testing.T) {
	for name, want := range map[string]string{
		"claude": "agentrun-claude", "my.agent-2_x": "agentrun-my.agent-2_x", "My Agent!": "agentrun-my_agent_",
		"": "agentrun-unnamed", "a/b\nc": "agentrun-a_b_c", "ünï": "agentrun-_n_",
	} {
		if got := ProfileName(&profiles.Policy{Name: name}); got != want {
			t.Errorf("%q: got %q, want %q", name, got, want)
		}
	}
}

// apparmorParser runs apparmor_parser on a profile as it would be loaded, without loading it
// (-Q) or caching it (-K), against the pinned kernel features of testdata/features
// and with the host's parser.conf ignored. Warnings are errors: a rule the kernel would not
// enforce, or a character escaped that needs no escape. It skips the test only when
// apparmor_parser is not installed.
func apparmorParser(t *testing.T, profile []byte) error {
	t.Helper()
	bin := parserBinary(t)
	features, err := filepath.Abs(filepath.Join("testdata", "features"))
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "profile")
	if err := os.WriteFile(f, profile, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config-file=/dev/null", "--skip-kernel-load", "--skip-cache",
		"--features-file="+features, "--warn=rule-not-enforced", "--warn=format", "--Werror", f)
	if out, err := cmd.CombinedOutput(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("running apparmor_parser: %v", err)
		}
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// parserBinary finds apparmor_parser (in /usr/sbin, which a user's PATH may lack), or skips
// the test.
func parserBinary(t *testing.T) string {
	t.Helper()
	if bin, err := exec.LookPath("apparmor_parser"); err == nil {
		return bin
	}
	for _, p := range []string{"/usr/sbin/apparmor_parser", "/sbin/apparmor_parser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("apparmor_parser is not installed (Debian package apparmor; scripts/test.sh installs it)")
	return ""
}

// TestAppArmorParser checks every golden profile with the real apparmor_parser.
func TestAppArmorParser(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.apparmor.golden"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden AppArmor profiles (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := apparmorParser(t, b); err != nil {
				t.Errorf("apparmor_parser rejects %s:\n%v", f, err)
			}
		})
	}
}

// TestAppArmorParserRejects proves the check can fail: broken rules, and a rule the pinned
// kernel features cannot enforce, added to a good profile.
func TestAppArmorParserRejects(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "claude.apparmor.golden"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, rule, msg string }{
		{"bad permission letter", "/x rwq,", "syntax error"},
		{"conflicting exec modes", "/.agentrun/agentrun px,", "conflicting x modifiers"},
		{"unclosed alternation", "/x{a,b r,", "grouping"},
		{"not enforced by the pinned kernel", "dbus send,", "not enforced"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			i := strings.LastIndex(string(good), "}")
			bad := string(good[:i]) + "  " + tc.rule + "\n}\n"
			err := apparmorParser(t, []byte(bad))
			if err == nil {
				t.Fatalf("apparmor_parser accepts %q", tc.rule)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("apparmor_parser rejects %q, but not with %q:\n%v", tc.rule, tc.msg, err)
			}
		})
	}
}

// TestAppArmorTrickyPaths puts awkward paths in every kind of rule: each one compiles to a
// profile apparmor_parser accepts, with no more rules than a plain path gives (nothing in a
// path can end a rule), or Compile refuses it naming the rule and its origin.
func TestAppArmorTrickyPaths(t *testing.T) {
	long := "/" + strings.Repeat("d/", 2046) + "xy"       // 4095 bytes, PATH_MAX - 1
	longEscaped := "/" + strings.Repeat("{/", 2046) + "}" // 4094 bytes, each brace escaped
	tests := []struct {
		name, path string
		err        string // empty: the parser must accept the profile
	}{
		{"space", "/home/user/My Documents/notes", ""},
		{"leading and trailing spaces", "/home/user/ x /y ", ""},
		{"star", "/home/user/.ssh/id_*", ""},
		{"stars", "/opt/*/lib/*.so.*", ""},
		{"double star inside", "/usr/lib/**/bin", ""},
		{"double star at the end", "/tmp/go-build*/**", ""},
		{"root", "/", ""},
		{"double quote", `/home/user/say "hi"`, ""},
		{"single quote", "/home/user/it's", ""},
		{"backslash", `/home/user/a\b`, ""},
		{"trailing backslash", `/home/user/a\`, ""},
		{"apparmor variable", "/home/user/@{HOME}/x", ""},
		{"at sign", "/home/user/node_modules/@scope/pkg", ""},
		{"braces", "/home/user/{a,b}", ""},
		{"alternation text", "/home/user/x{,/*}", ""},
		{"brackets", "/home/user/[abc]", ""},
		{"question mark", "/home/user/what?", ""},
		{"caret", "/home/user/^x", ""},
		{"comma", "/home/user/a,b", ""},
		{"hash", "/home/user/#draft#", ""},
		{"dollar", "/home/user/$HOME", ""},
		{"rule inside", "/x r, / rwx, #", ""},
		{"punctuation", "/home/user/a%b:c=d+e~f;g&h|i<j>k!l(m)n`o'p", ""},
		{"unicode", "/home/user/日本語/ファイル/é", ""},
		{"emoji", "/home/user/🙂", ""},
		{"right to left", "/home/user/שלום", ""},
		{"combining mark", "/home/user/e\u0301", ""},
		{"long", long, ""},
		{"long and escaped", longEscaped, ""},
		{"too long", long + "z", "PATH_MAX"},
		{"newline", "/home/user/a\nb", "control character U+000A"},
		{"carriage return", "/home/user/a\rb", "control character"},
		{"tab", "/home/user/a\tb", "control character"},
		{"NUL", "/home/user/a\x00b", "control character"},
		{"DEL", "/home/user/a\x7fb", "control character"},
		{"C1 control", "/home/user/a\u0085b", "control character"},
		{"line separator", "/home/user/a\u2028b", "control character"},
		{"not UTF-8", "/home/user/a\xffb", "not valid UTF-8"},
		{"relative", "home/user", "not an absolute path"},
		{"dot dot", "/home/user/../x", "not a clean path"},
		{"double slash", "/home//user", "not a clean path"},
		{"double star inside a name", "/usr/lib/a**", "** must be a whole path element"},
		{"double star in alternation text", "/home/user/x{,/**}", "** must be a whole path element"},
	}
	origin := profiles.Pos{File: "tricky.yaml", Line: 7, Col: 9}
	policy := func(p string) *profiles.Policy {
		r := []profiles.PathRule{{Path: p, Pattern: p, Origin: origin}}
		return &profiles.Policy{Name: "tricky", Chain: []string{"tricky"}, Mode: profiles.ModeEnforce,
			Filesystem: profiles.FilesystemPolicy{Read: r, Write: r, Protect: r, Deny: r},
			Exec:       profiles.ExecPolicy{Allow: r, Deny: r}}
	}
	plain, err := Compile(policy("/plain"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := Compile(policy(tc.path))
			if tc.err != "" {
				if err == nil {
					t.Fatalf("compiles:\n%s", out)
				}
				for _, want := range []string{tc.err, "filesystem.read", "tricky.yaml:7:9"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := strings.Count(string(out), "\n"), strings.Count(string(plain), "\n"); got != want {
				t.Errorf("%d lines, %d with a plain path:\n%s", got, want, out)
			}
			if err := apparmorParser(t, out); err != nil {
				t.Errorf("apparmor_parser rejects the profile for %q:\n%v\n%s", tc.path, err, out)
			}
			checkAppArmorMatch(t, tc.path)
		})
	}
}

// checkAppArmorMatch asks apparmor_parser what the rule for p matches (-D rule-exprs prints
// each rule as a regular expression) and checks that it is p and what lies beneath it: with
// AppArmor's special characters taken literally, not as globs, alternations or variables.
func checkAppArmorMatch(t *testing.T, p string) {
	t.Helper()
	expr, err := aaPath(p)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "p")
	if err := os.WriteFile(f, []byte("abi <abi/3.0>,\nprofile p {\n  "+expr+" r,\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(parserBinary(t), "--config-file=/dev/null", "-Q", "-K",
		"--features-file=testdata/features", "--dump=rule-exprs", f).CombinedOutput()
	if err != nil {
		t.Fatalf("apparmor_parser: %v\n%s", err, out)
	}
	var pattern string
	for _, l := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(l, "rule: /"); ok {
			pattern, _, _ = strings.Cut("/"+rest, "  ->  ")
		}
	}
	// The parser's dialect leaves a literal ? unescaped (it never writes ? as a quantifier).
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern):
			b.WriteString(pattern[i : i+2])
			i++
		case c == '?':
			b.WriteString(`\?`)
		default:
			b.WriteByte(c)
		}
	}
	re, err := regexp.Compile("^(?:" + b.String() + ")$")
	if err != nil {
		t.Fatalf("apparmor_parser's expression %q: %v", pattern, err)
	}
	match := []string{p, p + "/", p + "/sub", p + "/sub/deeper"} // a file, or a directory and what it holds
	if p == "/" {
		match = []string{"/", "/sub", "/sub/deeper"}
	}
	for _, s := range match {
		if !re.MatchString(s) {
			t.Errorf("the rule %s (%s) does not match %q", expr, pattern, s)
		}
	}
	if strings.Contains(p, "*") {
		return
	}
	var wrong []string
	if p != "/" {
		wrong = append(wrong, p+"Z") // beneath root is everything
	}
	for i := 0; i < len(p); i++ {
		if strings.IndexByte(`\"?[]{}^,@#$ `, p[i]) >= 0 {
			wrong = append(wrong, p[:i]+"Z"+p[i+1:])
		}
	}
	for _, s := range wrong {
		if re.MatchString(s) {
			t.Errorf("the rule %s (%s) matches %q", expr, pattern, s)
		}
	}
}

// TestAppArmorComments: text from the policy that goes into comments cannot start a rule.
func TestAppArmorComments(t *testing.T) {
	pol := &profiles.Policy{Name: "x\n/ rwx,", Chain: []string{"a\nb"}, Filesystem: profiles.FilesystemPolicy{
		Read: []profiles.PathRule{{Path: "/usr", Pattern: "/usr\n/ rwx,", Origin: profiles.Pos{File: "evil\n/ rwx,\u2028.yaml", Line: 1}}}}}
	out, err := Compile(pol)
	if err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`(?m)^\s*/ rwx,`).Match(out) || strings.Contains(string(out), "\u2028") {
		t.Errorf("comment text became a rule:\n%s", out)
	}
	if err := apparmorParser(t, out); err != nil {
		t.Error(err)
	}
}

// TestCompileAppArmorNegation compiles a deny rule with a negation element over a real
// directory: each name it matches now gets its deny rule, the names it keeps get none.
func TestCompileAppArmorNegation(t *testing.T) {
	ssh := filepath.Join(t.TempDir(), ".ssh")
	if err := os.Mkdir(ssh, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"id_ed25519", "deploy-key", ".hidden_key", "known_hosts", "config", "id_ed25519.pub"} {
		if err := os.WriteFile(filepath.Join(ssh, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pol := &profiles.Policy{Name: "t", Mode: profiles.ModeEnforce, Chain: []string{"t"}, Filesystem: profiles.FilesystemPolicy{
		Deny: []profiles.PathRule{{Path: ssh + "/!(known_hosts|config|*.pub)", Pattern: "~/.ssh/!(known_hosts|config|*.pub)", Origin: profiles.Pos{File: "t.yaml", Line: 3, Col: 5}}},
	}}
	out, err := Compile(pol)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, n := range []string{"id_ed25519", "deploy-key", ".hidden_key"} {
		if want := "deny " + ssh + "/" + n + "{,/**} mrwlkx,"; !strings.Contains(s, want) {
			t.Errorf("missing %q in\n%s", want, s)
		}
	}
	for _, n := range []string{"known_hosts", "config", "id_ed25519.pub"} {
		if strings.Contains(s, ssh+"/"+n+"{") {
			t.Errorf("%s is denied, but the negation keeps it:\n%s", n, s)
		}
	}
}
