package profiles_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/profiles"
)

// The accesses a checker is asked about.
var allAccesses = []profiles.Access{profiles.AccessRead, profiles.AccessWrite, profiles.AccessExec}

// wildElement is a pattern's wildcard element, replaced by a name in the paths pathsNear makes.
var wildElement = regexp.MustCompile(`!\([^)]*\)|\*\*|\*`)

// pathsNear is paths around a rule's pattern: it, beneath it, beside it, above it, its
// wildcards filled in, and the odd forms a caller may pass (a trailing or doubled slash).
func pathsNear(pattern string) []string {
	filled := wildElement.ReplaceAllString(pattern, "zz")
	out := []string{pattern, filled}
	for _, p := range []string{pattern, filled, profiles.GlobBase(pattern)} {
		out = append(out, p+"/x", p+"/x/y", p+"x", p+"/", p+"//x", strings.Replace(p, "/", "//", 1),
			p+"/../x", p+"/./x", "/x/.."+p) // what canonicalization would have removed
		if i := strings.LastIndexByte(p, '/'); i > 0 {
			out = append(out, p[:i], p[:i]+"/other")
		}
	}
	return out
}

// checkSame fails where the checker's answer for path is not pol.CheckFile's.
func checkSame(t *testing.T, name string, pol *profiles.Policy, c *profiles.FileChecker, path string) {
	t.Helper()
	for _, a := range allAccesses {
		got, want := c.CheckFile(path, a), pol.CheckFile(path, a)
		if got != want {
			t.Errorf("%s: %s of %q: FileChecker says %+v, CheckFile %+v", name, a, path, got, want)
		}
		if allows := c.Allows(path, a); allows != want.Allow {
			t.Errorf("%s: %s of %q: FileChecker.Allows says %v, CheckFile %+v", name, a, path, allows, want)
		}
	}
}

// everyRule is each rule path of pol.
func everyRule(pol *profiles.Policy) []string {
	var out []string
	for _, l := range [][]profiles.PathRule{pol.Filesystem.Deny, pol.Filesystem.Protect, pol.Filesystem.Write, pol.Filesystem.Read, pol.Exec.Allow, pol.Exec.Deny} {
		for _, r := range l {
			out = append(out, r.Path)
		}
	}
	return out
}

// TestFileCheckerIsCheckFile: for every profile of the test catalog, resolved, and for paths
// at, beneath, beside and above each of its rules, the indexed checker answers as CheckFile
// does for every access, rule named included.
func TestFileCheckerIsCheckFile(t *testing.T) {
	cat := testCatalog(t)
	n := 0
	for _, e := range cat.List() {
		pol, err := cat.Resolve(e, testEnv)
		if err != nil {
			continue // the catalog's invalid profiles
		}
		c := profiles.NewFileChecker(pol)
		paths := []string{"", "/", "rel/x", "/nonexistent/x"}
		for _, r := range everyRule(pol) {
			paths = append(paths, pathsNear(r)...)
		}
		for _, p := range paths {
			checkSame(t, e.Name(), pol, c, p)
			n++
		}
	}
	if n < 1000 {
		t.Fatalf("only %d paths were compared", n)
	}
}

// TestFileCheckerOrder: rules the index finds and rules it asks in turn, mixed in one list,
// decide in the list's order (the first rule that covers names the decision), and the forms
// it does not index (the root, /**, "", a trailing slash, a relative pattern) cover what
// CheckFile says they cover.
func TestFileCheckerOrder(t *testing.T) {
	rule := func(paths ...string) []profiles.PathRule {
		var out []profiles.PathRule
		for _, p := range paths {
			out = append(out, profiles.PathRule{Path: p, Pattern: p})
		}
		return out
	}
	for _, c := range []struct {
		name string
		pol  profiles.Policy
	}{
		{"a pattern before a literal directory", profiles.Policy{Filesystem: profiles.FilesystemPolicy{
			Read: rule("/home/*/src", "/home/u", "/home/u/src/**", "/home/u/src/x"),
		}}},
		{"a deeper directory first", profiles.Policy{Filesystem: profiles.FilesystemPolicy{
			Read: rule("/home/u/src/x", "/home/u"),
		}}},
		{"a literal directory before a pattern", profiles.Policy{Filesystem: profiles.FilesystemPolicy{
			Deny:  rule("/home/u/.ssh", "/home/*/.ssh/id_*", "/home/!(root)/.aws"),
			Write: rule("/home/u"),
		}}},
		{"odd forms", profiles.Policy{Filesystem: profiles.FilesystemPolicy{
			Deny:    rule("/etc/ssl/", "rel/dir"),
			Protect: rule("/**", "/etc"),
			Read:    rule("", "/"),
		}}},
		{"exec rules", profiles.Policy{
			Filesystem: profiles.FilesystemPolicy{Read: rule("/")},
			Exec: profiles.ExecPolicy{
				Allow: rule("/usr/bin", "/opt/*/bin/**", "/", "/usr"),
				Deny:  rule("/usr/bin/su", "/usr/*/sudo"),
			},
		}},
	} {
		pol := &c.pol
		chk := profiles.NewFileChecker(pol)
		paths := []string{"", "/", "rel", "rel/dir", "rel/dir/x", "/home", "/home/root/.aws"}
		for _, r := range everyRule(pol) {
			paths = append(paths, pathsNear(r)...)
		}
		for _, p := range paths {
			checkSame(t, c.name, pol, chk, p)
		}
	}
}

// FuzzFileChecker compares the indexed checker with CheckFile for any path, under the
// built-in claude profile.
func FuzzFileChecker(f *testing.F) {
	cat := testCatalog(f)
	e, err := cat.Lookup("claude")
	if err != nil {
		f.Fatal(err)
	}
	pol, err := cat.Resolve(e, testEnv)
	if err != nil {
		f.Fatal(err)
	}
	c := profiles.NewFileChecker(pol)
	for _, r := range everyRule(pol) {
		f.Add(r)
	}
	f.Add("/home/u/.ssh//id_rsa/")
	f.Fuzz(func(t *testing.T, path string) {
		checkSame(t, "claude", pol, c, path)
	})
}
