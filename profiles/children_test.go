package profiles

import (
	"path"
	"strings"
	"testing"
)

func rulesOf(paths ...string) []PathRule {
	var out []PathRule
	for _, p := range paths {
		out = append(out, PathRule{Path: p, Pattern: p})
	}
	return out
}

// childrenPolicy has rules of every form: literal directories and files, DIR/**, a * element
// at the end and in the middle, a negation.
func childrenPolicy() *Policy {
	return &Policy{Filesystem: FilesystemPolicy{
		Read:    rulesOf("/usr", "/home/u", "/etc/ssl/**"),
		Write:   rulesOf("/home/u/proj", "/tmp/*/cache"),
		Protect: rulesOf("/home/u/proj/.git/hooks", "/home/u/.config/!(gh|git)"),
		Deny:    rulesOf("/home/u/.ssh", "/home/u/proj/.env", "/home/u/*/secrets/**", "/home/u/.aws/credentials"),
	}}
}

func TestChildrenLike(t *testing.T) {
	pol := childrenPolicy()
	for _, c := range []struct {
		dir  string
		want bool
	}{
		{"/usr/lib", true},           // under a read rule, nothing named below
		{"/home/u/proj/src", true},   // under the write rule
		{"/home/u/proj", false},      // .env and .git are named in it
		{"/home/u/proj/.git", false}, // hooks is named in it
		{"/home/u", false},           // .ssh and proj are named in it
		{"/home/u/.ssh", true},       // denied whole
		{"/home/u/.config", false},   // the negation names some of its entries
		{"/home/u/x", true},          // /home/u/*/secrets/** names what is in secrets, not secrets
		{"/home/u/x/secrets", false}, // …what is in it: each of its entries, not itself
		{"/home/u/x/other", true},    // nothing named in it
		{"/tmp", true},               // /tmp/*/cache names nothing directly in /tmp
		{"/tmp/a", false},            // cache is named in it
		{"/tmp/a/cache", true},       // written whole
		{"/etc", false},              // ssl is named in it
		{"/etc/ssl", true},           // read whole
		{"/", false},                 // /usr, /home, /etc, /tmp are named in it
		{"/home/u/.aws", false},      // credentials is named in it
		{"/nowhere/at/all", true},    // no rule: every child is not there for the agent alike
	} {
		if got := pol.ChildrenLike(c.dir); got != c.want {
			t.Errorf("ChildrenLike(%q) = %v, want %v", c.dir, got, c.want)
		}
	}
}

func TestSubtreeLike(t *testing.T) {
	pol := childrenPolicy()
	for _, c := range []struct {
		dir  string
		want bool
	}{
		{"/usr", true},               // read whole, nothing named below
		{"/usr/lib", true},           // the same
		{"/home/u/proj/src", true},   // nothing named below
		{"/home/u/proj", false},      // .env, .git/hooks below
		{"/home/u/proj/.git", false}, // hooks
		{"/home/u/x", false},         // /home/u/*/secrets/** names what is in its secrets
		{"/home/u/x/other", true},    // nothing named below
		{"/home/u/.ssh", false},      // /home/u/*/secrets/** names its secrets/…
		{"/tmp", false},              // /tmp/*/cache
		{"/tmp/a/cache", true},       // written whole
		{"/etc/ssl", true},           // read whole
		{"/", false},                 // everything is named below it
		{"/nowhere", true},           // no rule below
		{"/home", false},             // /home/u and all below
	} {
		if got := pol.SubtreeLike(c.dir); got != c.want {
			t.Errorf("SubtreeLike(%q) = %v, want %v", c.dir, got, c.want)
		}
	}
}

// TestChildrenLikeAgreesWithCheckFile: wherever ChildrenLike says yes, every child name that
// could matter (each element of every rule, and a few others) is judged as the directory
// is, for reading and for writing; wherever SubtreeLike says yes, so is every path of up to
// three of those names below it. The directories are every prefix of every rule, with names
// of the rules' elements put in for their wildcards.
func TestChildrenLikeAgreesWithCheckFile(t *testing.T) {
	pol := childrenPolicy()
	fs := pol.Filesystem
	var all []PathRule
	for _, rs := range [][]PathRule{fs.Read, fs.Write, fs.Protect, fs.Deny} {
		all = append(all, rs...)
	}
	names := map[string]bool{"x": true, "gh": true, "git": true, "other": true}
	for _, r := range all {
		for _, el := range strings.Split(r.Path, "/") {
			if el != "" && !IsPattern(el) {
				names[el] = true
			}
		}
	}
	dirs := map[string]bool{"/": true}
	for _, r := range all {
		els := strings.Split(r.Path, "/")
		for i := 2; i <= len(els); i++ {
			for name := range names {
				var d []string
				for _, el := range els[:i] {
					if IsPattern(el) {
						el = name
					}
					d = append(d, el)
				}
				dirs[strings.Join(d, "/")] = true
			}
		}
	}
	var below []string // relative paths of one to three names
	for a := range names {
		below = append(below, a)
		for b := range names {
			below = append(below, a+"/"+b)
			for _, c := range []string{"x", "secrets", "cache"} {
				below = append(below, a+"/"+b+"/"+c)
			}
		}
	}
	checked, deep := 0, 0
	for dir := range dirs {
		children, subtree := pol.ChildrenLike(dir), pol.SubtreeLike(dir)
		if subtree && !children {
			t.Errorf("SubtreeLike(%q) but not ChildrenLike", dir)
		}
		for _, a := range []Access{AccessRead, AccessWrite} {
			want := pol.CheckFile(dir, a)
			for _, rel := range below {
				if !subtree && (!children || strings.Contains(rel, "/")) {
					continue
				}
				p := path.Join(dir, rel)
				if got := pol.CheckFile(p, a); got.Allow != want.Allow || got.Rule != want.Rule {
					t.Errorf("%q is like what is below it (children %v, subtree %v), but %s of %s is judged %+v, of the directory %+v", dir, children, subtree, a, p, got, want)
				}
				checked++
				if strings.Contains(rel, "/") {
					deep++
				}
			}
		}
	}
	if checked == 0 || deep == 0 {
		t.Fatalf("%d judgements checked, %d below children: the test checked too little", checked, deep)
	}
	t.Logf("%d directories, %d judgements checked, %d of them below children", len(dirs), checked, deep)
}
