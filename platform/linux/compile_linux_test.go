package linux

import (
	"flag"
	"io/fs"
	"path"
	"regexp"
	"testing"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/builtin"
	"github.com/agentrun/agentrun/profiles/profilestest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	profilestest.Golden(t, "platform/linux", name, got, *update)
}

func TestCompileSeccompGolden(t *testing.T) {
	out, err := CompileSeccomp(nil)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "seccomp.json.golden", out)
}

// TestCompileLandlockGolden compiles every built-in agent profile against a fixed host: a
// home with the usual files, so the plan does not depend on this machine.
func TestCompileLandlockGolden(t *testing.T) {
	cat, err := profiles.Load(builtin.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	env := profilestest.Env
	host := map[string]bool{"/usr": true, "/etc": true, "/etc/shadow": false, "/opt": true, "/home/user": true,
		"/home/user/project": true, "/home/user/project/.git/hooks": true, "/home/user/project/.git/config": false,
		"/home/user/.ssh": true, "/home/user/.ssh/id_ed25519": false, "/home/user/.aws": true, "/home/user/.bashrc": false,
		"/home/user/.npm": true, "/home/user/.claude": true, "/home/user/.codex": true, "/home/user/.gemini": true}
	stat := func(p string) (bool, bool) { dir, ok := host[p]; return ok, dir }
	list := func(dir string) ([]string, error) { // the fixed host's directories, for !(a|b)
		if !host[dir] {
			return nil, fs.ErrNotExist
		}
		var names []string
		for p := range host {
			if path.Dir(p) == dir && p != dir {
				names = append(names, path.Base(p))
			}
		}
		return names, nil
	}
	for _, name := range []string{"claude", "codex", "gemini", "aider", "opencode", "ci"} {
		e, err := cat.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		pol, err := cat.Resolve(e, env)
		if err != nil {
			t.Fatal(err)
		}
		out := describeFilesystem(pol, stat, list)
		// The home is bound by name only: neither it nor ~/.ssh is bound whole, so the key is
		// absent (or hidden, where a deny rule names it).
		if regexp.MustCompile(`(?m)^  /home/user(/\.ssh)? +read`).Match(out) ||
			regexp.MustCompile(`(?m)^  /home/user/\.ssh/id_ed25519 +read`).Match(out) {
			t.Errorf("%s: the SSH key is visible:\n%s", name, out)
		}
		golden(t, name+".landlock.golden", out)
	}
}
