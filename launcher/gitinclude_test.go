package launcher

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentrun/agentrun/platform/safefs"
)

const fsmonitorConfig = "[core]\n\tfsmonitor = \"touch /x\"\n"

// TestResolveInWorkspace: links are followed as the kernel follows them, relative to their
// directory, ".." after a link from where the link led, and out of the workspace.
func TestResolveInWorkspace(t *testing.T) {
	r := makeTree(t, "a/b/", "a/f", "l1 -> a/b", "l2 -> l1/../f", "abs -> /etc", "up -> ..", "loop -> loop", "c/")
	abs := filepath.Join(r.Path(), "c")
	if err := os.Symlink(abs, filepath.Join(r.Path(), "inabs")); err != nil {
		t.Fatal(err)
	}
	a := &afterRun{ws: r}
	for _, c := range []struct {
		rel, want string
		links     int
		inside    bool
	}{
		{"a/f", "a/f", 0, true},
		{"missing/x", "missing/x", 0, true},
		{"l1/x", "a/b/x", 1, true},
		{"l1/../f", "a/f", 1, true}, // ".." of a/b, not of the workspace
		{"l2", "a/f", 2, true},
		{"inabs/y", "c/y", 1, true},
		{"abs/passwd", "/etc/passwd", 1, false},
		{"up/z", filepath.Dir(r.Path()) + "/z", 1, false},
		{"../z", filepath.Dir(r.Path()) + "/z", 0, false},
		{"loop", "loop", maxLinks + 1, true},
	} {
		got, links, inside := a.resolveInWorkspace(c.rel)
		if got != c.want || len(links) != c.links || inside != c.inside {
			t.Errorf("resolveInWorkspace(%q) = %q, %v, %v; want %q, %d links, %v", c.rel, got, links, inside, c.want, c.links, c.inside)
		}
	}
}

// TestCheckConfigFile: a config of the user's is followed through its includes and links; what
// the run made or changed on the way is cleaned or moved aside, what is older is left as it is
// (an old include with keys that run programs is the user's own), and cycles end.
func TestCheckConfigFile(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside.cfg")
	old := map[string]string{
		"repo/.git/config":   "[include]\n\tpath = ../../shared.cfg\n[include]\n\tpath = ../../old-program.cfg\n",
		"shared.cfg":         "[include]\n\tpath = deeper/more.cfg\n[include]\n\tpath = shared.cfg\n[include]\n\tpath = " + outside + "\n",
		"old-program.cfg":    "[filter \"lfs\"]\n\tclean = git-lfs clean -- %f\n",
		"deeper/more.cfg":    "[user]\n\tname = u\n",
		"linked/.git/config": "",
		"target.cfg":         "",
	}
	ws := filepath.Join(base, "ws")
	for name, content := range old {
		p := filepath.Join(ws, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(filepath.Join(ws, "linked/.git/config"))
	if err := os.Symlink("../../target.cfg", filepath.Join(ws, "linked/.git/config")); err != nil {
		t.Skipf("cannot make links here: %v", err)
	}
	if err := os.WriteFile(outside, []byte("[include]\n\tpath = ws/from-outside.cfg\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // past the coarse clock's tick
	start := coarseNow()
	// What the run changes: a file an old include names, one the outside file names, and
	// the target of an old link.
	for _, name := range []string{"deeper/more.cfg", "from-outside.cfg", "target.cfg"} {
		if err := os.WriteFile(filepath.Join(ws, name), []byte(fsmonitorConfig), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := safefs.OpenRoot(ws)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var said strings.Builder
	a := &afterRun{ws: r, roots: []*safefs.Root{r}, start: start, stderr: &said, home: base}
	a.checkConfigFile("repo/.git/config", "repo/.git", 0)
	a.checkConfigFile("linked/.git/config", "linked/.git", 0)
	for _, name := range []string{"deeper/more.cfg", "from-outside.cfg", "target.cfg"} {
		b, _ := os.ReadFile(filepath.Join(ws, name))
		if strings.Contains(string(b), "touch /x") {
			t.Errorf("%s still runs a program: %q; agentrun said: %s", name, b, said.String())
		}
		if _, err := os.Stat(filepath.Join(ws, name+quarantineSuffix)); err != nil {
			t.Errorf("%s: the original was not kept aside: %v", name, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(ws, "old-program.cfg")); string(b) != old["old-program.cfg"] {
		t.Errorf("an old included config of the user's was changed: %q", b)
	}
	if strings.Contains(said.String(), "old-program") {
		t.Errorf("agentrun spoke of an old config of the user's: %s", said.String())
	}
}

// TestCheckConfigFileLink: a link on the way to a config, made during the run, is moved
// aside whatever it leads to.
func TestCheckConfigFileLink(t *testing.T) {
	r := makeTree(t, "repo/.git/", "old.cfg", "inc")
	if err := os.WriteFile(filepath.Join(r.Path(), "repo/.git/config"), []byte("[include]\n\tpath = ../../inc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	start := coarseNow()
	os.Remove(filepath.Join(r.Path(), "inc"))
	if err := os.Symlink("old.cfg", filepath.Join(r.Path(), "inc")); err != nil {
		t.Skipf("cannot make links here: %v", err)
	}
	var said strings.Builder
	a := &afterRun{ws: r, roots: []*safefs.Root{r}, start: start, stderr: &said}
	a.checkConfigFile("repo/.git/config", "repo/.git", 0)
	if fi, err := os.Lstat(filepath.Join(r.Path(), "inc")); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		t.Errorf("the link made during the run is still there; agentrun said: %s", said.String())
	}
}

// TestCheckConfigFileBound: a config of includes that include each other many times over is
// followed a bounded number of times, and the stop is said.
func TestCheckConfigFileBound(t *testing.T) {
	var b strings.Builder
	for range 20 {
		b.WriteString("[include]\n\tpath = ../../a.cfg\n\tpath = ../../b.cfg\n")
	}
	r := makeTree(t, "repo/.git/")
	for name, content := range map[string]string{
		"repo/.git/config": b.String(),
		"a.cfg":            strings.Repeat("[include]\n\tpath = a.cfg\n\tpath = b.cfg\n", 10),
		"b.cfg":            strings.Repeat("[include]\n\tpath = b.cfg\n\tpath = a.cfg\n", 10),
	} {
		if err := os.WriteFile(filepath.Join(r.Path(), name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(20 * time.Millisecond)
	var said strings.Builder
	a := &afterRun{ws: r, roots: []*safefs.Root{r}, start: coarseNow(), stderr: &said}
	a.checkConfigFile("repo/.git/config", "repo/.git", 0)
	if a.includes != maxIncludes || strings.Count(said.String(), "stopped") != 1 || !strings.Contains(said.String(), "stopped following") {
		t.Errorf("followed %d includes, said %q; want a stop after %d, said", a.includes, said.String(), maxIncludes)
	}
}
