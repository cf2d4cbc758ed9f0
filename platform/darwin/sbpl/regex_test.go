package sbpl

import (
	"regexp"
	"testing"
)

// TestPatternRegex: each pattern's expression, compiled as POSIX ERE, matches what the
// policy's rule covers and nothing else; a negation's exceptions are left out.
func TestPatternRegex(t *testing.T) {
	tests := []struct {
		name, pattern string
		match, miss   []string
	}{
		{"star within a name", "/h/.ssh/id_*",
			[]string{"/h/.ssh/id_rsa", "/h/.ssh/id_", "/h/.ssh/id_ed25519.pub", "/h/.ssh/id_rsa/x"},
			[]string{"/h/.ssh/xid_rsa", "/h/.ssh/known_hosts", "/h/.ssh", "/h/.sshx/id_rsa", "/h/.ssh/a/id_rsa"}},
		{"star does not cross a slash", "/a/*/c",
			[]string{"/a/b/c", "/a/.b/c", "/a/b/c/d"},
			[]string{"/a/b/x/c", "/a/c", "/ab/c"}},
		{"double star at any depth", "/a/**/bin",
			[]string{"/a/bin", "/a/x/bin", "/a/x/y/z/bin", "/a/x/bin/tool"},
			[]string{"/a/binx", "/ab/bin", "/a/x/sbin"}},
		{"double star at the end", "/tmp/go-build*/**",
			[]string{"/tmp/go-build1", "/tmp/go-build/x", "/tmp/go-build123/b001/exe/a.out"},
			[]string{"/tmp/go-buil", "/tmp/x/go-build1"}},
		{"dots and regex syntax are literal", "/w/a.b+c(d)[e]{f}|g^$*",
			[]string{"/w/a.b+c(d)[e]{f}|g^$", "/w/a.b+c(d)[e]{f}|g^$zz"},
			[]string{"/w/aXb+c(d)[e]{f}|g^$", "/w/a.bbc(d)[e]{f}|g^$"}},
		{"negation", "/h/.ssh/!(known_hosts|config|*.pub)",
			[]string{"/h/.ssh/id_rsa", "/h/.ssh/mykey", "/h/.ssh/known_hosts.old", "/h/.ssh/sub/x"},
			[]string{"/h/.ssh/known_hosts", "/h/.ssh/config", "/h/.ssh/id_rsa.pub", "/h/.ssh", "/h/.ssh/config/x"}},
		{"negation with ? and an escape", `/h/d/!(a?c|x\*y)`,
			[]string{"/h/d/ac", "/h/d/xzy", "/h/d/abcd"},
			[]string{"/h/d/abc", "/h/d/x*y"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			re, negs, err := patternRegex(tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			all := append([]string{re}, negs...)
			compiled := make([]*regexp.Regexp, len(all))
			for i, r := range all {
				if compiled[i], err = regexp.CompilePOSIX(r); err != nil {
					t.Fatalf("%s is not a POSIX ERE: %v", r, err)
				}
			}
			// What SBPL evaluates: (require-all (regex RE) (require-not (regex NEG))...).
			matches := func(p string) bool {
				if !compiled[0].MatchString(p) {
					return false
				}
				for _, n := range compiled[1:] {
					if n.MatchString(p) {
						return false
					}
				}
				return true
			}
			for _, p := range tc.match {
				if !matches(p) {
					t.Errorf("%s (%s %v) does not match %s", tc.pattern, re, negs, p)
				}
			}
			for _, p := range tc.miss {
				if matches(p) {
					t.Errorf("%s (%s %v) matches %s", tc.pattern, re, negs, p)
				}
			}
		})
	}
}

func TestPatternRegexRefused(t *testing.T) {
	for _, p := range []string{"/a/!(x|[ab])", "/a/b**c"} {
		if re, _, err := patternRegex(p); err == nil {
			t.Errorf("%s compiled to %s", p, re)
		}
	}
}
