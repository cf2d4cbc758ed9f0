package integration

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestStateDirsMadeOnFirstRun runs each agent's profile in a home where its state directory
// does not exist yet, as a new user's first run: agentrun makes it (0700, the user's) and the
// agent saves its state there; a link planted where one belongs is not followed.
func TestStateDirsMadeOnFirstRun(t *testing.T) {
	asRootAndUser(t, func(t *testing.T, r *runner) {
		for _, tc := range []struct{ profile, dir string }{
			{"claude", ".claude"}, {"codex", ".codex"}, {"gemini", ".gemini"},
		} {
			dir := filepath.Join(r.home, tc.dir)
			res := r.run(t, "--profile", tc.profile, "--network", "none", "--", "sh", "-c", `echo saved > "$HOME/`+tc.dir+`/state" && echo ok`)
			if res.code != 0 || !strings.Contains(res.stdout, "ok") {
				t.Errorf("%s: the agent could not save its state on a first run: %s", tc.profile, res)
				continue
			}
			fi, err := os.Lstat(dir)
			if err != nil {
				t.Fatalf("%s: %v", tc.profile, err)
			}
			st := fi.Sys().(*syscall.Stat_t)
			if !fi.IsDir() || fi.Mode().Perm() != 0o700 || int(st.Uid) != r.uid {
				t.Errorf("%s: %s is %v, uid %d; want a 0700 directory of uid %d", tc.profile, dir, fi.Mode(), st.Uid, r.uid)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "state")); err != nil || string(b) != "saved\n" {
				t.Errorf("%s: the state did not persist: %q %v", tc.profile, b, err)
			}
		}
		// A link where the state directory belongs is not followed to make anything.
		target := filepath.Join(filepath.Dir(r.home), "elsewhere")
		if err := os.Symlink(filepath.Join(target, "made"), filepath.Join(r.home, ".aider")); err != nil {
			t.Fatal(err)
		}
		r.run(t, "--profile", "aider", "--network", "none", "--", "true")
		if _, err := os.Lstat(target); err == nil {
			t.Errorf("a link in the home led agentrun to make %s", target)
		}
	})
}
