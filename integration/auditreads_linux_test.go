package integration

import (
	"strings"
	"testing"

	"github.com/agentrun/agentrun/events"
)

// deepDirs is how many directories deep the deep secret sits below the workspace: with the
// fixture's home, 51 names in all, more than the 16 audit mode's recorder of reads once
// read.
const deepDirs = 45

// movedProfile denies a directory of the workspace that the script makes by renaming one it
// has read from, and a file deep below the workspace.
var movedProfile = `name: moved
extends: [base]
filesystem:
  deny:
    - ~/project/secret
    - ~/project/` + strings.Repeat("d/", deepDirs) + `key
`

// movedScript reads files of a directory the profile allows, waits so that agentrun has
// judged them (audit mode as root then stops reporting that directory's reads), renames the
// directory to where the profile denies it, and reads another of its files; reads a denied
// file through a symlink in another judged directory; then it reads a file 51 names deep that
// the profile denies.
var movedScript = `#!/bin/sh
set -e
mkdir a
for i in 1 2 3 4 5 6; do echo x > a/$i; done
cat a/1 a/2 a/3 > /dev/null
sleep 0.5
mv a secret
cat secret/4 > /dev/null
mkdir b
echo x > b/1
cat b/1 > /dev/null
sleep 0.5
ln -s ../secret/5 b/link
cat b/link > /dev/null
mkdir -p ` + strings.Repeat("d/", deepDirs) + `
echo k > ` + strings.Repeat("d/", deepDirs) + `key
cat ` + strings.Repeat("d/", deepDirs) + `key > /dev/null
echo done
`

// TestAuditReadsAfterAMove: audit mode reports the read of a file whose directory the agent
// moved into a denied place after reading from it in an allowed one (as root, the recorder
// of reads had stopped reporting that directory: the move must make it report again), the
// read of a denied file through a symlink in a directory it had stopped reporting, and
// the read of a denied file 51 names deep by its whole path; no read is given up as
// unresolvable. As root (the kernel's recorder of reads) and as a user (the notifier): the
// same events.
func TestAuditReadsAfterAMoveAsRoot(t *testing.T)       { testAuditReadsAfterAMove(t, false) }
func TestAuditReadsAfterAMoveUnprivileged(t *testing.T) { testAuditReadsAfterAMove(t, true) }

func testAuditReadsAfterAMove(t *testing.T, unprivileged bool) {
	r := newRunner(t, unprivileged)
	if unprivileged {
		usableTUN(t) // audit mode records connections, none too
	}
	writeFiles(t, r, map[string]string{".config/agentrun/profiles/moved.yaml": movedProfile}, 0o644)
	writeFiles(t, r, map[string]string{"project/moved.sh": movedScript}, 0o755)
	res := r.run(t, "--mode", "audit", "--profile", "moved", "--", "./moved.sh")
	if res.code != 0 || !strings.Contains(res.stdout, "done") {
		t.Fatalf("audit run: %s", res)
	}
	evs := storedEvents(t, r, "--run", runID(t, res))
	ws := r.home + "/project/"
	for key, rule := range map[string]string{
		"file read " + ws + "secret/4":                               "filesystem.deny ~/project/secret",
		"file read " + ws + "secret/5":                               "filesystem.deny ~/project/secret",
		"file read " + ws + strings.Repeat("d/", deepDirs) + "key":   "filesystem.deny ~/project/d/",
		"file create " + ws + strings.Repeat("d/", deepDirs) + "key": "filesystem.deny ~/project/d/",
		"file rename " + ws + "secret":                               "filesystem.deny ~/project/secret",
	} {
		e, ok := findEvent(evs, key)
		if !ok {
			t.Errorf("no event %q among %d", key, len(evs))
			continue
		}
		if e.Verdict != events.WouldDeny || !strings.Contains(e.Rule, rule) {
			t.Errorf("%s: verdict %s, rule %q; want would-deny by %q", key, e.Verdict, e.Rule, rule)
		}
	}
	for _, e := range evs {
		if e.Rule == "path resolution" {
			t.Errorf("a path given up as unresolvable: %+v", e)
		}
		if e.Kind == events.KindFile && e.Op == "read" && strings.HasPrefix(e.Path, ws+"a/") {
			t.Errorf("an allowed read recorded: %+v", e)
		}
	}
}
