package profiles

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/platform/windows/wintest"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "/usr/bin", want: "/usr/bin"},
		{in: "/usr//bin/", want: "/usr/bin"},
		{in: "/usr/./bin", want: "/usr/bin"},
		{in: "/", want: "/"},
		{in: "~", want: "~"},
		{in: "~/.ssh/id_*", want: "~/.ssh/id_*"},
		{in: "$HOME/.aws", want: "~/.aws"},
		{in: "${HOME}/.aws", want: "~/.aws"},
		{in: "$WORKSPACE", want: "$WORKSPACE"},
		{in: "$WORKSPACE/.git/hooks", want: "$WORKSPACE/.git/hooks"},
		{in: "$XDG_CONFIG_HOME/app", want: "$XDG_CONFIG_HOME/app"},
		{in: "/usr/lib/**/bin", want: "/usr/lib/**/bin"},
		{in: "", err: "empty path"},
		{in: "relative/path", err: "relative path"},
		{in: "./x", err: `"$WORKSPACE/x"`},
		{in: "~bob/x", err: "~user"},
		{in: "$FOO/x", err: "unknown variable $FOO"},
		{in: "$HOMEX/x", err: "unknown variable $HOMEX"},
		{in: "$HOME.x", err: "write a / after $HOME"},
		{in: "/a/$HOME", err: "only at the start"},
		{in: "/a/../b", err: `".."`},
		{in: "/a/**x", err: "whole path element"},
		{in: "/a/[ab]", err: "not supported"},
		{in: "/a/{b,c}", err: "not supported"},
		{in: "/a/b?", err: "not supported"},
		{in: "/a\nb", err: "control character"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) { checkParsePath(t, tc.in, tc.want, tc.err) })
	}
}

// An error's example of what to write instead is itself a path the parser takes.
func TestParsePathExamplesParse(t *testing.T) {
	for _, in := range []string{"relative/path", "./x", "x", "../../etc", "a/../b", "..", "x/..", "~bob/x", "$HOMEX/x", "$HOME.x", "$XDG_CONFIG_HOMEapp"} {
		_, err := parsePath(in)
		if err == nil {
			t.Fatalf("parsePath(%q) took it", in)
		}
		msg := err.Error()
		i := strings.Index(msg, "e.g. ")
		if i < 0 {
			continue
		}
		example := msg[i+len("e.g. "):]
		if q, err := strconv.QuotedPrefix(example); err == nil {
			example, _ = strconv.Unquote(q)
		}
		if _, err := parsePath(example); err != nil {
			t.Errorf("parsePath(%q) suggests %q, which is refused: %v", in, example, err)
		}
	}
}

// checkParsePath parses in and wants it back as want, or an error containing errPart.
func checkParsePath(t *testing.T, in, want, errPart string) {
	t.Helper()
	p, err := parsePath(in)
	if errPart != "" {
		if err == nil || !strings.Contains(err.Error(), errPart) {
			t.Fatalf("parsePath(%q) = %v, %v; want an error containing %q", in, p, err, errPart)
		}
		return
	}
	if err != nil {
		t.Fatalf("parsePath(%q): %v", in, err)
	}
	if p.String() != want {
		t.Errorf("parsePath(%q) = %s, want %s", in, p, want)
	}
}

func TestExpand(t *testing.T) {
	env := Env{Home: "/home/u", Workspace: "/home/u/proj", TmpDir: "/tmp", ConfigHome: "/home/u/.config"}
	tests := []struct{ in, want, err string }{
		{in: "~", want: "/home/u"},
		{in: "~/.aws", want: "/home/u/.aws"},
		{in: "$WORKSPACE/.git/hooks", want: "/home/u/proj/.git/hooks"},
		{in: "$TMPDIR", want: "/tmp"},
		{in: "$XDG_CONFIG_HOME/gh", want: "/home/u/.config/gh"},
		{in: "/etc/shadow", want: "/etc/shadow"},
		{in: "$XDG_RUNTIME_DIR/bus", err: "$XDG_RUNTIME_DIR is not set"},
	}
	for _, tc := range tests {
		p, err := parsePath(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := env.expand(p)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("expand(%q) = %q, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("expand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestCanonicalPath resolves symlinks on a real directory tree, for paths that exist, paths
// that do not exist yet, and globs.
func TestCanonicalPath(t *testing.T) {
	dir := wintest.TempDir(t)
	real := filepath.Join(dir, "real")
	if err := os.MkdirAll(filepath.Join(real, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	realDir, err := filepath.EvalSymlinks(real) // t.TempDir may itself sit behind a symlink
	if err != nil {
		t.Fatal(err)
	}
	// Policy paths are written with / on every OS (on Windows: C:/Users/...), and so is what
	// CanonicalPath gives.
	link, realDir = filepath.ToSlash(link), filepath.ToSlash(realDir)
	check := func(t *testing.T, tests []struct{ in, want string }) {
		for _, tc := range tests {
			if got := CanonicalPath(tc.in); got != tc.want {
				t.Errorf("CanonicalPath(%q) = %q, want %q", tc.in, got, tc.want)
			}
		}
	}
	t.Run("through a symlink", func(t *testing.T) {
		if wintest.UnderWine() {
			t.Skip("wine 8 makes no symlink Windows' path resolution follows (filepath.EvalSymlinks keeps the link); it runs on Windows itself")
		}
		check(t, []struct{ in, want string }{
			{link, realDir},
			{link + "/sub", realDir + "/sub"},
			{link + "/missing/deeper", realDir + "/missing/deeper"},
			{link + "/sub/*.pem", realDir + "/sub/*.pem"},
			{link + "/**", realDir + "/**"},
		})
	})
	check(t, []struct{ in, want string }{
		{realDir + "/sub", realDir + "/sub"},
		{realDir + "/sub/*.pem", realDir + "/sub/*.pem"},
		{"/", "/"},
		{"/nonexistent-agentrun-test/x", "/nonexistent-agentrun-test/x"},
		{"/nonexistent-agentrun-test/**", "/nonexistent-agentrun-test/**"},
	})
}

func TestParseMemory(t *testing.T) {
	tests := []struct {
		in   string
		tag  string
		want int64
		err  string
	}{
		{in: "8GiB", tag: "!!str", want: 8 << 30},
		{in: "8G", tag: "!!str", want: 8 << 30},
		{in: "512MiB", tag: "!!str", want: 512 << 20},
		{in: "1.5GiB", tag: "!!str", want: 3 << 29},
		{in: "1073741824", tag: "!!int", want: 1 << 30},
		{in: "8GB", tag: "!!str", err: "ambiguous"},
		{in: "lots", tag: "!!str", err: "not a size"},
		{in: "1MiB", tag: "!!str", err: "too small"},
		{in: "2048TiB", tag: "!!str", err: "larger"},
		{in: "1e9", tag: "!!str", err: "not a size"},
		{in: "true", tag: "!!bool", err: "must be a size"},
	}
	for _, tc := range tests {
		got, err := parseMemory(Scalar{Value: tc.in, Tag: tc.tag, Set: true})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseMemory(%q) = %d, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseMemory(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

// TestCanonicalizerAgrees resolves every path of a tree with awkward links — relative ones, a
// link to a link, a link climbing with .., a loop, a dangling link, a file where a directory
// is expected, a link to / — with the canonicalizer, which resolves each directory once and
// remembers it, and with CanonicalPath (filepath.EvalSymlinks each time): they agree, in any
// order of asking.
func TestCanonicalizerAgrees(t *testing.T) {
	if wintest.UnderWine() {
		t.Skip("wine 8 makes no symlink Windows' path resolution follows")
	}
	dir := wintest.TempDir(t)
	for _, d := range []string{"a/b/c", "x/y"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "a/file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"a/rel":     "b/c",      // relative, down
		"a/b/up":    "../../x",  // relative, up
		"a/chain":   "rel",      // a link to a link
		"x/abs":     dir + "/a", // absolute
		"x/y/loop1": "loop2",
		"x/y/loop2": "loop1",
		"x/dangle":  "nowhere/deeper",
		"x/root":    "/",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Skipf("no symlinks here: %v", err)
		}
	}
	var paths []string
	for _, rel := range []string{"", "a", "a/b", "a/b/c", "a/b/c/new", "a/rel", "a/rel/new/deeper", "a/b/up", "a/b/up/y",
		"a/chain", "a/chain/x", "x/abs/b/c", "x/abs/rel", "x/y/loop1", "x/y/loop1/z", "x/dangle", "x/dangle/z",
		"x/root", "x/root/etc", "a/file", "a/file/z", "missing", "missing/a/b", "a/*.pem", "a/rel/**", "x/abs/!(b)/z"} {
		paths = append(paths, filepath.ToSlash(filepath.Join(dir, rel)))
	}
	for _, order := range [][]string{paths, reversed(paths)} {
		canon := NewCanonicalizer()
		for _, p := range order {
			if got, want := canon(p), CanonicalPath(p); got != want {
				t.Errorf("canonicalizer(%q) = %q, CanonicalPath gives %q", p, got, want)
			}
		}
	}
}

func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}
