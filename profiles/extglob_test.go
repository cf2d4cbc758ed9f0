package profiles

import (
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/platform/windows/wintest"
)

const sshKeys = "!(known_hosts|config|*.pub)"

func TestMatchElement(t *testing.T) {
	for _, tc := range []struct {
		name, el, in string
		want         bool
	}{
		{"private key", sshKeys, "id_ed25519", true},
		{"odd-named key", sshKeys, "deploy-key", true},
		{"dotfile", sshKeys, ".hidden_key", true},
		{"kept: known_hosts", sshKeys, "known_hosts", false},
		{"kept: config", sshKeys, "config", false},
		{"kept: public key", sshKeys, "id_work.pub", false},
		{"not a public key", sshKeys, "id_work.pub.bak", true},
		{"prefix of an alternative", sshKeys, "known_hosts.old", true},
		{"question mark", "!(a?)", "ab", false},
		{"question mark, other length", "!(a?)", "abc", true},
		{"class", "!([ab]x)", "bx", false},
		{"class, outside", "!([ab]x)", "cx", true},
		{"negated class", "!([^a]x)", "ax", true},
		{"negated class, other", "!([^a]x)", "bx", false},
		{"escape", `!(\*)`, "*", false},
		{"escape, other", `!(\*)`, "x", true},
		{"empty name", sshKeys, "", false},
		{"malformed negation", "!(a|)", "b", false},
		{"plain star", "*.pub", "a.pub", true},
		{"double star as star", "**", "anything", true},
		{"literal", "config", "config", true},
		{"literal, other", "config", "configs", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MatchElement(tc.el, tc.in); got != tc.want {
				t.Errorf("MatchElement(%q, %q) = %v, want %v", tc.el, tc.in, got, tc.want)
			}
		})
	}
}

func TestPatternCoversNegation(t *testing.T) {
	for _, tc := range []struct {
		name, pattern, path string
		want                bool
	}{
		{"key", "/h/.ssh/" + sshKeys, "/h/.ssh/id_rsa", true},
		{"inside a matched directory", "/h/.ssh/" + sshKeys, "/h/.ssh/keys.d/work", true},
		{"kept file", "/h/.ssh/" + sshKeys, "/h/.ssh/known_hosts", false},
		{"kept public key", "/h/.ssh/" + sshKeys, "/h/.ssh/id_rsa.pub", false},
		{"the directory itself", "/h/.ssh/" + sshKeys, "/h/.ssh", false},
		{"another directory", "/h/.ssh/" + sshKeys, "/h/.sshx/id_rsa", false},
		{"negation in the middle", "/h/!(pub)/key", "/h/priv/key", true},
		{"negation in the middle, kept", "/h/!(pub)/key", "/h/pub/key", false},
		{"negation then star", "/h/!(a|b)/*.pem", "/h/c/x.pem", true},
		{"negation then star, no match", "/h/!(a|b)/*.pem", "/h/c/x.crt", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PatternCovers(tc.pattern, tc.path); got != tc.want {
				t.Errorf("PatternCovers(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
			}
		})
	}
}

func TestGlobBaseNegation(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/h/.ssh/" + sshKeys, "/h/.ssh"},
		{"/h/!(a)/x/*", "/h"},
		{"/h/x/*/!(a)", "/h/x"},
		{"/!(usr)", "/"},
		{"/h/x", "/h/x"},
	} {
		if got := GlobBase(tc.in); got != tc.want {
			t.Errorf("GlobBase(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParsePathNegation(t *testing.T) {
	for _, tc := range []struct {
		name, in, want, err string
	}{
		{name: "ssh keys", in: "~/.ssh/" + sshKeys, want: "~/.ssh/" + sshKeys},
		{name: "classes and ?", in: "/etc/x/!([ab]?|c*)", want: "/etc/x/!([ab]?|c*)"},
		{name: "in the middle", in: "~/!(a|b)/key", want: "~/!(a|b)/key"},
		{name: "parentheses without ! stay literal", in: "/opt/App (x86)", want: "/opt/App (x86)"},
		{name: "unclosed", in: "~/.ssh/!(known_hosts|config", err: "never closed"},
		{name: "slash inside", in: "~/.ssh/!(known_hosts|a/b)", err: "cannot contain /"},
		{name: "empty alternative", in: "~/.ssh/!(known_hosts||config)", err: "empty alternative"},
		{name: "empty negation", in: "~/.ssh/!()", err: "empty alternative"},
		{name: "trailing bar", in: "~/.ssh/!(a|)", err: "empty alternative"},
		{name: "nested", in: "~/.ssh/!(a|!(b))", err: "cannot hold ("},
		{name: "open paren inside", in: "~/.ssh/!(a(b)", err: "cannot hold ("},
		{name: "after other characters", in: "~/.ssh/id_!(a)", err: "whole path element"},
		{name: "text after it", in: "~/.ssh/!(a)b", err: "nothing after"},
		{name: "double star", in: "~/.ssh/!(**)", err: "any depth"},
		{name: "bad class", in: "~/.ssh/!([a)", err: "not a valid name pattern"},
		{name: "class outside a negation", in: "~/.ssh/[ab]", err: "!(a|b) matches every name"},
	} {
		t.Run(tc.name, func(t *testing.T) { checkParsePath(t, tc.in, tc.want, tc.err) })
	}
}

// TestGlobNegation expands patterns against a real directory tree, as the launcher's mount
// plan does.
func TestGlobNegation(t *testing.T) {
	// Rule patterns and what Glob gives are written with / on every OS, as policy paths are.
	dir := filepath.ToSlash(wintest.TempDir(t))
	ssh := dir + "/.ssh"
	for _, n := range []string{"known_hosts", "config", "id_work.pub", "id_work", "deploy-key", ".hidden_key", "github_rsa", "sub/key"} {
		p := ssh + "/" + n
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	in := func(names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, ssh+"/"+n)
		}
		return out
	}
	for _, tc := range []struct {
		name, pattern string
		want          []string
	}{
		{"every private key", ssh + "/" + sshKeys, in(".hidden_key", "deploy-key", "github_rsa", "id_work", "sub")},
		{"negation then literal", dir + "/!(nothing)/config", in("config")},
		{"negation then missing literal", dir + "/!(nothing)/absent", nil},
		{"negation under a missing directory", dir + "/absent/" + sshKeys, nil},
		{"negation under a file", ssh + "/config/" + sshKeys, nil},
		{"star, as before", ssh + "/id_*", in("id_work", "id_work.pub")},
		{"literal", ssh + "/absent", []string{ssh + "/absent"}},
		{"directory with /**", ssh + "/**", []string{ssh}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Glob(tc.pattern); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Glob(%q) = %q, want %q", tc.pattern, got, tc.want)
			}
			for _, p := range Glob(tc.pattern) {
				if IsPattern(tc.pattern) && !PatternCovers(tc.pattern, p) {
					t.Errorf("Glob(%q) gave %s, which PatternCovers does not cover", tc.pattern, p)
				}
			}
		})
	}
}

// FuzzNegation checks the negation parser on arbitrary input: nothing panics, an element the
// parser accepts matches exactly the names none of its alternatives match, and a path that
// parses prints as a path that parses to the same pattern.
func FuzzNegation(f *testing.F) {
	for _, s := range []string{
		"~/.ssh/" + sshKeys, "~/.ssh/!(a|b", "~/.ssh/!(a/b)", "/x/!(a||b)", "/x/!(a|!(b))",
		"/x/!([a-c]?|\\*)", "/x/!(**)/y", "/x/y!(a)", "/x/!(a)b/c", "$WORKSPACE/!(.git)",
	} {
		f.Add(s, "id_rsa")
	}
	f.Fuzz(func(t *testing.T, raw, name string) {
		p, err := parsePath(raw)
		if err != nil {
			return
		}
		again, err := parsePath(p.String())
		if err != nil || again.key() != p.key() {
			t.Fatalf("parsePath(%q) = %s, which parses again as %v, %v", raw, p, again, err)
		}
		for _, el := range strings.Split(p.Rest, "/") {
			if !strings.HasPrefix(el, negOpen) {
				continue
			}
			alts, err := negationAlternatives(el)
			if err != nil {
				t.Fatalf("parsePath(%q) accepted %q, which negationAlternatives refuses: %v", raw, el, err)
			}
			want := name != ""
			for _, a := range alts {
				if ok, _ := path.Match(a, name); ok { // \ escapes on every OS, as in MatchElement
					want = false
				}
			}
			if got := MatchElement(el, name); got != want {
				t.Fatalf("MatchElement(%q, %q) = %v, want %v", el, name, got, want)
			}
		}
	})
}

// TestPatternCoversPrefilter checks PatternCovers's early rejection (a rule whose literal part
// does not lead to the path) against the element-by-element match alone, over every pairing of
// patterns and paths built from the same few names, wildcards and negations, near the
// boundaries: the directory itself, a sibling sharing a prefix, a pattern as the path.
func TestPatternCoversPrefilter(t *testing.T) {
	elementwise := func(pattern, path string) bool {
		if !IsPattern(pattern) {
			return Within(path, pattern)
		}
		if base, ok := strings.CutSuffix(pattern, "/**"); ok && !IsPattern(base) {
			return Within(path, base)
		}
		pe, xe := strings.Split(pattern, "/"), strings.Split(path, "/")
		if len(xe) < len(pe) {
			return false
		}
		for i, el := range pe {
			if !MatchElement(strings.ReplaceAll(el, "**", "*"), xe[i]) {
				return false
			}
		}
		return true
	}
	elems := []string{"a", "ab", "b", "*", "**", "a*", "*b", "!(a)", "!(a|b)", ".ssh"}
	var patterns, paths []string
	for _, x := range elems {
		for _, y := range elems {
			patterns = append(patterns, "/"+x, "/"+x+"/"+y, "/a/"+x+"/"+y, "/a/"+x+"/**")
		}
	}
	for _, x := range []string{"a", "ab", "b", "c", ".ssh", "*", "!(a)"} {
		for _, y := range []string{"", "/a", "/ab", "/b", "/b/c", "/a/b/c"} {
			paths = append(paths, "/"+x+y, "/a/"+x+y)
		}
	}
	paths = append(paths, patterns...) // learn asks whether a pattern covers another
	for _, pat := range patterns {
		for _, p := range paths {
			if got, want := PatternCovers(pat, p), elementwise(pat, p); got != want {
				t.Errorf("PatternCovers(%q, %q) = %v, element by element %v", pat, p, got, want)
			}
		}
	}
}
