package sbpl

import (
	"flag"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/profilestest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var testOptions = Options{Tag: "agentrun-test"}

// paramsText writes a profile's parameters one NAME=VALUE a line, as the launcher passes them.
func paramsText(p *Profile) []byte {
	var b strings.Builder
	for _, prm := range p.Params {
		b.WriteString(prm.Name + "=" + prm.Value + "\n")
	}
	return []byte(b.String())
}

// TestGolden compiles every built-in profile, plus claude in audit mode and with proxy ports,
// and runs the static checker on each.
func TestGolden(t *testing.T) {
	pols := profilestest.Builtins(t, profilestest.Env)
	type variant struct {
		pol *profiles.Policy
		o   Options
	}
	cases := map[string]variant{}
	for name, pol := range pols {
		cases[name] = variant{pol, testOptions}
	}
	audit := testOptions
	audit.Audit = true
	cases["claude-audit"] = variant{pols["claude"], audit}
	proxy := testOptions
	proxy.ProxyPorts = []int{18080, 18081}
	cases["claude-proxy"] = variant{pols["claude"], proxy}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			c := cases[name]
			p, err := Compile(c.pol, c.o)
			if err != nil {
				t.Fatal(err)
			}
			checkProfile(t, name, p)
			profilestest.Golden(t, "platform/darwin/sbpl", name+".sb.golden", []byte(p.Text), *update)
			profilestest.Golden(t, "platform/darwin/sbpl", name+".params.golden", paramsText(p), *update)
		})
	}
}

func compileClaude(t *testing.T, o Options) *Profile {
	t.Helper()
	p, err := Compile(profilestest.Builtins(t, profilestest.Env)["claude"], o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOrder checks that the rules stand in the order SBPL needs for the policy's
// precedence (the last matching rule wins): reads and writes, then protect, then deny, then
// the ancestors and what is always denied.
func TestOrder(t *testing.T) {
	p := compileClaude(t, Options{Tag: "t", ProxyPorts: []int{1080}})
	lines := strings.Split(p.Text, "\n")
	find := func(re string, last bool) int {
		at := -1
		for i, l := range lines {
			if regexp.MustCompile(re).MatchString(l) {
				if !last {
					return i
				}
				at = i
			}
		}
		if at < 0 {
			t.Fatalf("no line matches %s", re)
		}
		return at
	}
	order := []struct{ name, re string }{
		{"last read", `^\(allow file-read\* file-map-executable \(subpath \(param "READ_`},
		{"last write", `^\(allow file-read\* file-write\* .*WRITE_ROOT_`},
		{"last exec", `^\(allow process-exec\* .*"EXEC_`},
		{"first protect", `^\(deny file-write\* .*"PROTECT_`},
		{"last protect", `^\(deny file-write\* .*"PROTECT_`},
		{"first deny", `^\(deny file-read\* .*"DENY_`},
		{"last deny", `^\(deny file-read\* .*"DENY_`},
		{"first ancestor", `^\(deny file-write-unlink .*"ANCESTOR_`},
		{"dnssd", `com\.apple\.dnssd\.service`},
	}
	prev := -1
	for _, o := range order {
		at := find(o.re, strings.HasPrefix(o.name, "last"))
		if at <= prev && !strings.HasPrefix(o.name, "first") || at < prev {
			t.Errorf("%s (line %d) is not after the rules before it (line %d)", o.name, at+1, prev+1)
		}
		prev = at
	}
	if proxy := find(`remote ip "localhost:1080"`, false); proxy > find(`com\.apple\.dnssd\.service`, false) {
		t.Errorf("the proxy's allow comes after the last denials")
	}
}

// TestAudit: in audit mode nothing the profile names is denied; only agentrun's own denials
// (which name no parameter) stay.
func TestAudit(t *testing.T) {
	p := compileClaude(t, Options{Tag: "t", Audit: true})
	forms, err := readSexprs(p.Text)
	if err != nil {
		t.Fatal(err)
	}
	denies, reports := 0, 0
	for _, f := range forms {
		s := f.String()
		switch f.head() {
		case "deny":
			denies++
			if strings.Contains(strings.ReplaceAll(s, `(param "TAG")`, ""), "(param ") {
				t.Errorf("audit mode denies a rule of the policy: %s", s)
			}
		case "allow":
			if strings.Contains(s, "(with report)") {
				reports++
			}
		}
	}
	if denies == 0 || reports < 10 {
		t.Errorf("audit mode: %d denials (agentrun's own expected) and %d reported allows", denies, reports)
	}
	// The same policy in enforce mode denies what audit reports.
	e := compileClaude(t, Options{Tag: "t"})
	if strings.Contains(e.Text, "(with report)") || !strings.Contains(e.Text, `(deny file-write* (subpath (param "PROTECT_0"))`) {
		t.Errorf("enforce mode reports instead of denying")
	}
}

// TestOwnFilesDeniedInAudit: agentrun's own files stay denied in audit mode.
func TestOwnFilesDeniedInAudit(t *testing.T) {
	pol := &profiles.Policy{Name: "x", Filesystem: profiles.FilesystemPolicy{
		Deny: []profiles.PathRule{
			{Path: "/home/user/.local/state/agentrun", Pattern: "/home/user/.local/state/agentrun", Origin: profiles.OwnFilesOrigin},
			{Path: "/home/user/.aws", Pattern: "~/.aws", Origin: profiles.Pos{File: "p.yaml", Line: 3}},
		},
	}}
	p, err := Compile(pol, Options{Tag: "t", Audit: true})
	if err != nil {
		t.Fatal(err)
	}
	checkProfile(t, "own", p)
	if !strings.Contains(p.Text, `(deny file-read* file-write* file-map-executable process-exec* (subpath (param "DENY_0")) (with message (param "TAG")))`) {
		t.Errorf("agentrun's own files are not denied in audit mode:\n%s", p.Text)
	}
	if !strings.Contains(p.Text, `(allow file-read* file-write* file-map-executable process-exec* (subpath (param "DENY_1")) (with report)`) {
		t.Errorf("a profile's deny rule is not reported in audit mode:\n%s", p.Text)
	}
}

// TestNoNetwork: without proxy ports the profile allows no connection but unix sockets in
// write roots.
func TestNoNetwork(t *testing.T) {
	p := compileClaude(t, testOptions)
	if strings.Contains(p.Text, "remote ip") || strings.Contains(p.Text, "trustd") {
		t.Errorf("no proxy port, yet the profile allows a network connection")
	}
	q := compileClaude(t, Options{Tag: "t", ProxyPorts: []int{3128}})
	if !strings.Contains(q.Text, `(allow network-outbound (remote ip "localhost:3128"))`) {
		t.Errorf("the proxy's port is not allowed")
	}
	if _, err := Compile(&profiles.Policy{Name: "x"}, Options{ProxyPorts: []int{70000}}); err == nil {
		t.Errorf("port 70000 accepted")
	}
}

// TestUnexpressible: a rule SBPL cannot say is an error that names it, where it comes from
// and why.
func TestUnexpressible(t *testing.T) {
	pol := &profiles.Policy{Name: "x", Filesystem: profiles.FilesystemPolicy{Deny: []profiles.PathRule{
		{Path: "/home/user/.ssh/!(known_hosts|[ab]*)", Pattern: "~/.ssh/!(known_hosts|[ab]*)", Origin: profiles.Pos{File: "mine.yaml", Line: 12}},
	}}}
	_, err := Compile(pol, testOptions)
	if err == nil {
		t.Fatal("a character class in !(...) compiled")
	}
	for _, want := range []string{"filesystem.deny", "~/.ssh/!(known_hosts|[ab]*)", "mine.yaml:12", "character class"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error %q does not say %q", err, want)
		}
	}
}

// TestParamsCarryPaths: every path of the policy is a parameter, canonical under /private,
// and the text has none of them.
func TestParamsCarryPaths(t *testing.T) {
	p := compileClaude(t, testOptions)
	vals := map[string]string{}
	for _, prm := range p.Params {
		vals[prm.Name] = prm.Value
	}
	if vals["TAG"] != "agentrun-test" {
		t.Errorf("TAG=%q", vals["TAG"])
	}
	// base: /etc read, $TMPDIR (/tmp) written, /var/lib read.
	want := map[string]bool{"/private/etc": false, "/private/tmp": false, "/private/var/lib": false, "/home/user/project": false}
	for _, v := range vals {
		if _, ok := want[v]; ok {
			want[v] = true
		}
		if v == "/tmp" || v == "/etc" || strings.HasPrefix(v, "/var/") || strings.HasPrefix(v, "^/tmp/") {
			t.Errorf("parameter %q is not canonical (/private)", v)
		}
	}
	for v, ok := range want {
		if !ok {
			t.Errorf("no parameter carries %s", v)
		}
	}
}

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp": "/private/tmp", "/tmp/x": "/private/tmp/x", "/var/folders/ab/T": "/private/var/folders/ab/T",
		"/etc/hosts": "/private/etc/hosts", "/tmpx": "/tmpx", "/private/tmp": "/private/tmp", "/usr": "/usr",
		"/home/user/tmp": "/home/user/tmp",
	} {
		if got := Canonical(in); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
}
