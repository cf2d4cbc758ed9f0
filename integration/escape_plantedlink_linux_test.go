package integration

import (
	"os"
	"path/filepath"
	"testing"
)

// Links an agent leaves in its workspace under a name the profile protects (.claude,
// .codex, …): the next run binds the protected path read-only where it is, and must not
// follow the link on the host and bring into the sandbox what the link names there.
func init() {
	// plantLink makes dir (a directory beside the fixture home, outside everything the
	// profile names) with sub/s holding secret, and links the workspace's name to it.
	plantLink := func(name, dir, sub, secret string) func(t *testing.T, r *runner) {
		return func(t *testing.T, r *runner) {
			dir := dir // each run its own: the first run's fixture is gone by the next
			if dir == "" {
				dir = filepath.Join(filepath.Dir(r.home), "outside")
			}
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			if err := os.WriteFile(filepath.Join(dir, sub, "s"), []byte(secret+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(r.ws, name)
			if err := os.Symlink(dir, link); err != nil {
				t.Fatal(err)
			}
			if r.unprivate {
				chown(t, r, dir)
				if err := os.Lchown(link, r.uid, r.gid); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	escapeAttempts = append(escapeAttempts,
		escapeAttempt{
			class: "planted link", name: ".claude linked to a host directory with hooks", where: asRoot | asUser, profile: "base",
			setup:   plantLink(".claude", "", "hooks", "HOST SECRET"),
			attack:  `cat .claude/hooks/s; cat "$(readlink .claude)/hooks/s"`,
			held:    notPrinted("HOST SECRET"),
			control: "readlink .claude", controlWant: "outside",
		},
		escapeAttempt{
			class: "planted link", name: ".codex linked to a host directory", where: asRoot | asUser, profile: "base",
			setup:   plantLink(".codex", "", "sub", "HOST SECRET"),
			attack:  `cat .codex/sub/s; cat "$(readlink .codex)/sub/s"`,
			held:    notPrinted("HOST SECRET"),
			control: "readlink .codex", controlWant: "outside",
		},
		escapeAttempt{
			// The host's /dev/shm is not the sandbox's: nothing of it is bound over the
			// sandbox's own, and the link does not stop the run either.
			class: "planted link", name: ".claude linked into the host's /dev/shm", where: asRoot | asUser, profile: "base",
			setup:   plantLink(".claude", "/dev/shm/agentrun-escape-planted", "hooks", "HOST SHM SECRET"),
			attack:  `cat .claude/hooks/s; ls /dev/shm`,
			held:    notPrinted("HOST SHM SECRET"),
			control: "readlink .claude", controlWant: "agentrun-escape-planted",
		},
	)
}
