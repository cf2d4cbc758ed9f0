package fsplan

import "testing"

func TestVisible(t *testing.T) {
	p := Plan{Mounts: []Mount{
		{Path: "/usr", Access: Read, Dir: true},
		{Path: "/home/u/.gitconfig", Access: Read},
		{Path: "/home/u/work", Access: Write, Dir: true},
		{Path: "/home/u/work/.git/hooks", Access: Protect, Dir: true},
		{Path: "/home/u/work/.env", Access: Deny},
		{Path: "/home/u/work/secrets", Access: Deny, Dir: true},
		// A pin, appended after the mounts beneath it, as pinAncestors does.
		{Path: "/home/u/work/.git", Access: Write, Dir: true, Pin: true},
	}}
	for path, want := range map[string]bool{
		"/":                          true, // the skeleton
		"/home":                      true,
		"/home/u":                    true,
		"/home/u/.gitconfig":         true,
		"/usr/bin/git":               true,
		"/home/u/.aws":               false, // no rule names it
		"/home/u/.aws/credentials":   false,
		"/etc/passwd":                false,
		"/home/u/work/src/main.go":   true,
		"/home/u/work/.git/hooks/x":  true,
		"/home/u/work/.git/config":   true,
		"/home/u/work/.env":          true, // its stand-in
		"/home/u/work/secrets":       true, // its stand-in, an empty directory
		"/home/u/work/secrets/key":   false,
		"/home/u/work/secrets/a/b/c": false,
		"/home/u/workspace":          false, // a sibling with a common prefix
		"/usrlocal":                  false,
	} {
		if got := p.Visible(path); got != want {
			t.Errorf("Visible(%s) = %v, want %v", path, got, want)
		}
	}
}
