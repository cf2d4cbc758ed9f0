package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// agentrun's own files: its event store (earlier runs' command lines), the user's profiles
// (an agent that edits its own policy escalates) and its runtime state are hidden from every
// agent, whatever the profile says, in audit mode too.
func init() {
	store := func(t *testing.T, r *runner) {
		// An earlier run leaves the store behind, with its command line.
		var extra []string
		if r.jail {
			extra = append(extra, "--allow-degraded", "--allow-unprotected")
		}
		if res := r.sh(t, "true", extra...); res.code != 0 {
			t.Fatalf("a first run to make the store: %s", res)
		}
		// A run without events is in the run journal until the store is opened.
		if res := r.run(t, "log"); res.code != 0 && !strings.Contains(res.stderr, "no events") {
			t.Fatalf("opening the store: %s", res)
		}
		writeOwned(t, r, filepath.Join(r.home, ".config/agentrun/profiles/mine.yaml"), "name: mine\nextends: [base]\n")
	}
	escapeAttempts = append(escapeAttempts,
		escapeAttempt{
			class: "own files", name: "read the event store", setup: store,
			attack:  `cat "$HOME/.local/state/agentrun/events.db" >/dev/null`,
			want:    "Permission denied",
			control: `cat "$HOME/notes.txt"`, controlWant: "readable notes",
		},
		escapeAttempt{
			// A forged run in the run journal would make `agentrun report` call a profile
			// ready for enforce mode.
			class: "own files", name: "forge a run in the run journal", setup: store,
			attack: `echo '{"id":"forged","profile":"base","mode":"enforce","command":["x"],"started":1,"ended":2}' >> "$HOME/.local/state/agentrun/runs.journal"`,
			want:   "Permission denied",
			after: func(t *testing.T, r *runner, res result) error {
				data, _ := os.ReadFile(filepath.Join(r.home, ".local/state/agentrun/runs.journal"))
				if strings.Contains(string(data), `{"id":"forged"`) {
					return fmt.Errorf("the agent wrote to the run journal: %s", data)
				}
				return nil
			},
			control: `cat "$HOME/notes.txt"`, controlWant: "readable notes",
		},
		escapeAttempt{
			class: "own files", name: "read the user's profiles", setup: store,
			attack:  `cat "$HOME/.config/agentrun/profiles/mine.yaml"`,
			want:    "Permission denied",
			control: `ls "$HOME/.config/systemd/user/" >/dev/null && echo ok`, controlWant: "ok",
		},
		escapeAttempt{
			// As root only: audit mode has a network, and the test user may not open
			// /dev/net/tun on this host.
			class: "own files", name: "read the event store in audit mode", where: asRoot, setup: store,
			args:    []string{"--mode", "audit"},
			attack:  `cat "$HOME/.local/state/agentrun/events.db" >/dev/null`,
			want:    "Permission denied",
			control: `cat "$HOME/notes.txt"`, controlWant: "readable notes",
		},
		escapeAttempt{
			class: "own files", name: "list the runtime state", where: asUser,
			attack:  `ls -a "$HOME/.cache/agentrun/" && ls "$HOME/.cache/agentrun/run"`,
			want:    "Permission denied",
			control: `ls -d "$HOME/.cache" && echo ok`, controlWant: "ok",
		},
		escapeAttempt{
			// A workspace above agentrun's directories makes them writable, and they did not
			// exist yet: the agent plants a profile that a later run would load.
			class: "own files", name: "plant a profile from a writable parent", where: asRoot | asUser,
			args: []string{"--allow-home-workspace"}, // ~/.config holds start-up files
			setup: func(t *testing.T, r *runner) {
				r.ws = filepath.Join(r.home, ".config")
				if r.unprivate {
					chown(t, r, r.ws)
				}
			},
			attack: `mkdir -p agentrun/profiles; echo 'name: evil' > agentrun/profiles/evil.yaml;` +
				` mv agentrun agentrun.old; mkdir -p agentrun/profiles && echo 'name: evil' > agentrun/profiles/evil.yaml; ls agentrun/profiles/evil.yaml`,
			want: "agentrun/profiles",
			after: func(t *testing.T, r *runner, res result) error {
				for _, p := range []string{".config/agentrun/profiles/evil.yaml", ".config/agentrun.old/profiles/evil.yaml"} {
					if _, err := os.Stat(filepath.Join(r.home, p)); err == nil {
						return fmt.Errorf("the agent planted %s", p)
					}
				}
				return nil
			},
			control: `echo x > mine.txt && cat mine.txt`, controlWant: "x",
		},
	)
}

// chown gives a fixture path and everything below it to the runner's user.
func chown(t *testing.T, r *runner, path string) {
	t.Helper()
	err := filepath.Walk(path, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, r.uid, r.gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}
