package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hostileProfile is the user's profile of the agents below: base and nothing more.
const hostileProfile = "name: hostile\nextends: [base]\n"

// exclScript is issue 11's reproduction: opens with O_CREAT|O_EXCL in three system directories
// where a write rule would be host persistence; then one in a cache directory of the home, the
// control, which audit mode lets through. The names are new: an O_EXCL open of a file that
// exists fails with EEXIST before any permission check, in enforce mode too, and is no event.
const exclScript = `#!/bin/sh
for p in "$@" "$HOME/.cache/learned-tool/state"; do
	perl -MFcntl -e 'sysopen(my $f, $ARGV[0], O_WRONLY|O_CREAT|O_EXCL, 0644) and print "created: $ARGV[0]\n" or print "not created: $ARGV[0]: $!\n"' "$p"
done
`

// exclTargets are a new name in each directory of the issue, this fixture's own (audit mode
// as root creates them: they are removed when the test ends).
func exclTargets(t *testing.T, r *runner) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{"/usr/local/bin", "/etc/apt/apt.conf.d", "/etc/ld.so.conf.d"} {
		if _, err := os.Stat(dir); err != nil {
			t.Skipf("%s is not on this host (%v): the reproduction needs it", dir, err)
		}
		p := filepath.Join(dir, "agentrun-learn-"+filepath.Base(filepath.Dir(r.home)))
		t.Cleanup(func() {
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				t.Errorf("removing %s: %v", p, err)
			}
		})
		out = append(out, p)
	}
	return out
}

// TestLearnRefusesPersistence: learn lists the system directories as left denied with the
// reason and writes none of them, with --yes or without; the home's cache directory is
// proposed, but --yes takes it only with --allow-write-outside-workspace.
func TestLearnRefusesPersistenceAsRoot(t *testing.T)       { testLearnRefusesPersistence(t, false) }
func TestLearnRefusesPersistenceUnprivileged(t *testing.T) { testLearnRefusesPersistence(t, true) }

func testLearnRefusesPersistence(t *testing.T, unprivileged bool) {
	r := newRunner(t, unprivileged)
	if unprivileged {
		usableTUN(t)
	}
	targets := exclTargets(t, r)
	writeFiles(t, r, map[string]string{".config/agentrun/profiles/hostile.yaml": hostileProfile}, 0o644)
	writeFiles(t, r, map[string]string{"project/excl.sh": exclScript}, 0o755)
	mkdirOwned(t, r, filepath.Join(r.home, ".cache", "learned-tool"))

	res := r.run(t, append([]string{"--mode", "audit", "--profile", "hostile", "--network", "none", "--", "./excl.sh"}, targets...)...)
	if res.code != 0 {
		t.Fatalf("audit run: %s", res)
	}
	if !strings.Contains(res.stdout, "created: "+filepath.Join(r.home, ".cache/learned-tool/state")) {
		t.Errorf("audit run: the control was not created: %s", res)
	}
	profile := filepath.Join(r.home, ".config/agentrun/profiles/hostile.yaml")
	check := func(step string, res result, wantCache bool) {
		t.Helper()
		if res.code != 0 {
			t.Fatalf("%s: %s", step, res)
		}
		for _, p := range targets {
			if !strings.Contains(res.stdout, "left denied: "+p+" (×1): a system directory") {
				t.Errorf("%s: %s is not left denied as a system directory: %s", step, p, res)
			}
		}
		learned, err := os.ReadFile(profile)
		if err != nil {
			t.Fatal(err)
		}
		for _, never := range []string{"/usr", "/etc", "apt.conf.d", "ld.so.conf.d"} {
			if strings.Contains(string(learned), never) {
				t.Errorf("%s: the learned profile names %q:\n%s", step, never, learned)
			}
		}
		if got := strings.Contains(string(learned), "~/.cache/learned-tool"); got != wantCache {
			t.Errorf("%s: the learned profile has ~/.cache/learned-tool: %v, want %v:\n%s", step, got, wantCache, learned)
		}
	}
	res = r.run(t, "learn", "hostile", "--yes")
	check("learn --yes", res, false)
	if !strings.Contains(res.stdout, "not accepted: filesystem.write ~/.cache/learned-tool lets the agent write outside the workspace") {
		t.Errorf("learn --yes: the cache rule is not held back: %s", res)
	}
	check("learn --yes --allow-write-outside-workspace", r.run(t, "learn", "hostile", "--yes", "--allow-write-outside-workspace"), true)
}

// hostileNames creates files whose names hold terminal escapes where base lets it write
// nothing (the home), and reads a secret from a shell whose command line holds some: each is
// denied (or would be), so it shows in the summary, agentrun log and learn. Its own error
// messages go nowhere: only agentrun's output is judged.
const hostileNames = `#!/bin/sh
exec 2>/dev/null
touch "$HOME/$(printf 'osc0-\033]0;pwned\007')"
touch "$HOME/$(printf 'osc52-\033]52;c;Y3VybCBldmlsLnRlc3Q=\007')"
touch "$HOME/$(printf 'cr-\r\033[K')"
touch "$HOME/$(printf 'nl-\nagentrun: 0 accesses denied')"
touch "$HOME/$(printf 'csi-\2332J')"
touch "$HOME/$(printf 'bidi-\342\200\256hs.txt')"
touch "$HOME/$(printf 'learn-\n      write: - ~')"
sh -c 'cat "$HOME/.aws/credentials"' "$(printf 'arg-\033]0;chain\007')"
t="./$(printf 'prog-\033]0;exe\007')"
cp /usr/bin/touch "$t" && "$t" "$HOME/plain-name"
rm -f "$t"
true
`

// rawBytes are what must never reach the terminal from an agent's string.
var rawBytes = []string{"\x1b", "\r", "\x07", "\x9b", "\u202e", "\u009b"}

// checkNoRaw fails when out holds a raw escape byte or a line the agent forged.
func checkNoRaw(t *testing.T, what, out string) {
	t.Helper()
	for _, b := range rawBytes {
		if strings.Contains(out, b) {
			t.Errorf("%s holds the raw %q:\n%s", what, b, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if l == "agentrun: 0 accesses denied" || strings.TrimSpace(l) == "write: - ~" {
			t.Errorf("%s holds the forged line %q:\n%s", what, l, out)
		}
	}
}

// TestHostileNamesEscaped: the end-of-run summary, agentrun log, report and learn's review
// show the agent's names escaped, and agentrun log --json gives them exactly.
func TestHostileNamesEscapedAsRoot(t *testing.T)       { testHostileNamesEscaped(t, false) }
func TestHostileNamesEscapedUnprivileged(t *testing.T) { testHostileNamesEscaped(t, true) }

func testHostileNamesEscaped(t *testing.T, unprivileged bool) {
	r := newRunner(t, unprivileged)
	if unprivileged {
		usableTUN(t)
	}
	writeFiles(t, r, map[string]string{".config/agentrun/profiles/hostile.yaml": hostileProfile}, 0o644)
	writeFiles(t, r, map[string]string{"project/names.sh": hostileNames}, 0o755)

	// Enforce: every create is denied and summarised.
	// --trace: the processes' command lines are read while they wait (a refusal read from the
	// kernel after the call finds a short-lived process gone, and names it by its comm).
	res := r.run(t, "--trace", "--profile", "hostile", "--network", "none", "--", "./names.sh")
	if !strings.Contains(res.stderr, "accesses denied") {
		t.Fatalf("enforce run: no denials summarised: %s", res)
	}
	checkNoRaw(t, "the end-of-run summary", res.stderr)
	if !strings.Contains(res.stderr, `\x1b`) {
		t.Errorf("the end-of-run summary shows no escaped name: %s", res)
	}
	id := runID(t, res)
	text := r.run(t, "log", "--run", id)
	checkNoRaw(t, "agentrun log", text.stdout)
	for _, want := range []string{`osc0-\x1b]0;pwned\x07`, `osc52-\x1b]52;c;`, `cr-\r\x1b[K`, `nl-\nagentrun: 0 accesses denied`, `bidi-\u202ehs.txt`, `arg-\x1b]0;chain\x07`} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("agentrun log: %q missing:\n%s", want, text.stdout)
		}
	}
	// The lone 0x9b of csi- is not valid UTF-8: the store keeps it as U+FFFD (JSON strings are
	// UTF-8), so the log shows that; the raw byte is checked absent above.
	evs := storedEvents(t, r, "--run", id)
	for _, name := range []string{"osc0-\x1b]0;pwned\x07", "cr-\r\x1b[K", "nl-\nagentrun: 0 accesses denied", "bidi-\u202ehs.txt"} {
		if _, ok := findEvent(evs, "file create "+filepath.Join(r.home, name)); !ok {
			t.Errorf("agentrun log --json: no create of the exact name %q", name)
		}
	}
	chain := false
	for _, e := range evs {
		for _, c := range e.Chain {
			chain = chain || strings.Contains(c, "arg-\x1b]0;chain\x07")
		}
	}
	if !chain {
		t.Errorf("agentrun log --json: no process chain with the exact command line")
	}
	rep := r.run(t, "report", "hostile")
	checkNoRaw(t, "agentrun report", rep.stdout)

	// Audit, then learn: the review and the diff show the names escaped.
	res = r.run(t, "--mode", "audit", "--profile", "hostile", "--network", "none", "--", "./names.sh")
	checkNoRaw(t, "the audit run's summary", res.stderr)
	dry := r.run(t, "learn", "hostile", "--dry-run")
	checkNoRaw(t, "learn --dry-run", dry.stdout)
	if !strings.Contains(dry.stdout, `left denied: `+r.home+`/learn-\n      write: - ~`) {
		t.Errorf("learn --dry-run: the forged prompt line is not left denied, escaped:\n%s", dry)
	}
	stdin, err := os.CreateTemp(t.TempDir(), "answers")
	if err != nil {
		t.Fatal(err)
	}
	stdin.WriteString(strings.Repeat("s\n", 20))
	stdin.Seek(0, 0)
	defer stdin.Close()
	review := r.runFiles(t, stdin, nil, "learn", "hostile")
	checkNoRaw(t, "learn's review", review.stdout)
	for _, want := range []string{`bidi-\u202ehs.txt`, `[1/1] filesystem.write: ~/plain-name`, `by ./prog-\x1b]0;exe\x07`} {
		if !strings.Contains(review.stdout, want) {
			t.Errorf("learn's review: %q missing:\n%s", want, review)
		}
	}
}
