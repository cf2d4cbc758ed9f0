package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/profiles"
)

// homelessProfile names the system and the workspace but nothing in the home directory, as
// every built-in profile does once the home is by name (base reads ~ whole until then), and
// protects a home path it does not make visible: a rule written when the home was readable.
const homelessProfile = `name: homeless
filesystem:
  read: [/usr, /bin, /sbin, /lib, /lib64, /etc]
  write: [$WORKSPACE, $TMPDIR]
  protect: [~/.config/foo/hooks]
exec:
  allow: [/usr/bin/**, /bin/**, /usr/lib/**, /lib/**, /lib64/**]
env:
  pass: [PATH, HOME, LANG]
`

// absentFiles are home files no rule of homelessProfile names: a tool's configuration, the
// 30 files a tool probes in its directory, and an SSH key with a name base does not list but
// a built-in profile denies (base: ~/.ssh/id_ed25519).
func absentFiles() map[string]string {
	files := map[string]string{
		".config/foo/config.toml": "setting = 1\n",
		".ssh/id_ed25519":         "-----BEGIN OPENSSH PRIVATE KEY----- secret\n",
	}
	for i := range 30 {
		files[fmt.Sprintf(".config/bar/f%02d", i)] = "x\n"
	}
	return files
}

func testAbsentSummary(t *testing.T, unprivileged bool) {
	r := newRunner(t, unprivileged)
	writeFiles(t, r, map[string]string{".config/agentrun/profiles/homeless.yaml": homelessProfile}, 0o644)
	writeFiles(t, r, absentFiles(), 0o644)
	file := filepath.Join(r.home, ".config/agentrun/profiles/homeless.yaml")
	warning := "agentrun: warning: " + file + ":5:13: filesystem.protect ~/.config/foo/hooks names a path in your home directory that no read or write rule makes visible, and the sandbox shows only the home paths profiles name; add `filesystem.read: [~/.config/foo/hooks]` to " + file

	// A run that reaches for nothing absent says nothing of the kind.
	res := r.run(t, "--profile", "homeless", "--network", "none", "--", "cat", "README.md")
	if res.code != 0 || !strings.Contains(res.stdout, "hello") {
		t.Fatalf("reading the workspace: %s", res)
	}
	if strings.Contains(res.stderr, "not in the sandbox") || strings.Contains(res.stderr, "agentrun learn") {
		t.Errorf("a run with nothing absent names absent paths: %s", res)
	}
	// The profile's protect rule of an invisible home path is warned about, once.
	if n := strings.Count(res.stderr, "agentrun: warning: "); n != 1 || !strings.Contains(res.stderr, warning) {
		t.Errorf("want the one warning\n  %s\ngot %s", warning, res)
	}

	// A tool that reads its configuration and probes its directory fails; the summary says
	// what was absent, one line per directory, and the fix.
	script := `cat ~/.config/foo/config.toml; for i in $(seq -w 0 29); do cat ~/.config/bar/f$i 2>/dev/null; done; exit 3`
	res = r.run(t, append(r.denials(), "--profile", "homeless", "--network", "none", "--", "sh", "-c", script)...)
	if res.code != 3 || strings.Contains(res.stdout, "setting") {
		t.Fatalf("the absent file was read, or the run did not fail: %s", res)
	}
	if !strings.Contains(res.stderr, "No such file or directory") {
		t.Errorf("the absent file is not absent (ENOENT): %s", res)
	}
	for _, want := range []string{
		"agentrun: 31 paths the agent reached for are not in the sandbox: no filesystem rule names them (the home directory shows only the paths profiles name)\n",
		"agentrun:   ~/.config/bar/ (30 paths, e.g. ~/.config/bar/f00)\n",
		"agentrun:   ~/.config/foo/config.toml\n",
		"agentrun: if the agent needs them, `agentrun learn homeless` proposes rules from this run, or add `filesystem: {read: [~/.config/bar, ~/.config/foo/config.toml]}` to " + file + "\n",
	} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("the summary lacks %q: %s", want, res)
		}
	}
	if n := strings.Count(res.stderr, "~/.config/bar/f"); n != 1 {
		t.Errorf("the probed directory takes %d lines, want one: %s", n, res)
	}
}

func TestAbsentSummaryAsRoot(t *testing.T)       { testAbsentSummary(t, false) }
func TestAbsentSummaryUnprivileged(t *testing.T) { testAbsentSummary(t, true) }

func testAbsentLearn(t *testing.T, unprivileged bool) {
	r := newRunner(t, unprivileged)
	if unprivileged {
		usableTUN(t) // audit mode records every destination, even with --network none
	}
	writeFiles(t, r, map[string]string{".config/agentrun/profiles/homeless.yaml": homelessProfile}, 0o644)
	writeFiles(t, r, absentFiles(), 0o644)
	home := r.home

	// Audit: both reads succeed and are recorded as would-be denials: no rule covers them.
	res := r.run(t, "--mode", "audit", "--profile", "homeless", "--network", "none", "--", "sh", "-c", "cat ~/.config/foo/config.toml ~/.ssh/id_ed25519")
	if res.code != 0 || !strings.Contains(res.stdout, "setting = 1") || !strings.Contains(res.stdout, "PRIVATE KEY") {
		t.Fatalf("audit run: %s", res)
	}
	evs := storedEvents(t, r, "--run", runID(t, res))
	for _, key := range []string{"file read " + home + "/.config/foo/config.toml", "file read " + home + "/.ssh/id_ed25519"} {
		e, ok := findEvent(evs, key)
		if !ok || e.Verdict != events.WouldDeny || e.Reason != profiles.ReasonNotCovered {
			t.Errorf("audit: %s: want a would-deny event, no rule covering it; got %+v (found %v)", key, e, ok)
		}
	}
	if want := "; `agentrun learn homeless` proposes rules for them"; !strings.Contains(res.stderr, "2 paths no filesystem rule names would be absent in enforce mode") || !strings.Contains(res.stderr, want) {
		t.Errorf("the audit summary does not name the absent paths and learn: %s", res)
	}

	// Learn proposes the configuration as a read rule and refuses the key: base denies it.
	res = r.run(t, "learn", "homeless", "--yes")
	if res.code != 0 {
		t.Fatalf("agentrun learn: %s", res)
	}
	if want := "left denied: " + home + "/.ssh/id_ed25519 (×1): a secret, filesystem.deny ~/.ssh/!(known_hosts|config|*.pub|*.sock) (builtin/"; !strings.Contains(res.stdout, want) {
		t.Errorf("learn: want %q in %s", want, res)
	}
	learned, err := os.ReadFile(filepath.Join(home, ".config/agentrun/profiles/homeless.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(learned), "~/.config/foo/config.toml") || strings.Contains(string(learned), ".ssh") {
		t.Errorf("the learned profile:\n%s", learned)
	}
	// Enforce with the learned rule: the configuration is there, the key is not.
	res = r.run(t, append(r.denials(), "--profile", "homeless", "--network", "none", "--", "sh", "-c", "cat ~/.config/foo/config.toml; cat ~/.ssh/id_ed25519")...)
	if !strings.Contains(res.stdout, "setting = 1") || strings.Contains(res.stdout, "PRIVATE KEY") {
		t.Errorf("enforce after learning: %s", res)
	}
	if !strings.Contains(res.stderr, "agentrun:   ~/.ssh/id_ed25519\n") || !strings.Contains(res.stderr, "agentrun: a profile denies it as a secret: agentrun never proposes a rule for it\n") {
		t.Errorf("enforce after learning: the summary should name the key and propose nothing: %s", res)
	}
}

func TestAbsentLearnAsRoot(t *testing.T)       { testAbsentLearn(t, false) }
func TestAbsentLearnUnprivileged(t *testing.T) { testAbsentLearn(t, true) }
