package integration

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHardlinkedDeniedWarned: a hard link to a denied file, made before the launch in the
// workspace, reads it in the sandbox (mounts hide paths, not inodes); agentrun names the file
// and its link count at launch and in --dry-run.
func TestHardlinkedDeniedWarned(t *testing.T) {
	r := newRunner(t, false)
	creds := filepath.Join(r.home, ".aws/credentials")
	if err := os.Link(creds, filepath.Join(r.ws, "innocent.txt")); err != nil {
		t.Fatal(err)
	}
	want := "the denied file " + creds + " has 1 other hard link(s)"
	res := r.run(t, "--profile", r.profile, "--network", "none", "--dry-run", "--", "true")
	if res.code != 0 || !strings.Contains(res.stdout, want) {
		t.Errorf("--dry-run: want %q, got %s", want, res)
	}
	res = r.sh(t, "true")
	if res.code != 0 || strings.Count(res.stderr, want) != 1 {
		t.Errorf("launch: want one warning %q, got %s", want, res)
	}
	if err := os.Remove(filepath.Join(r.ws, "innocent.txt")); err != nil {
		t.Fatal(err)
	}
	if res = r.sh(t, "true"); strings.Contains(res.stderr, "hard link") {
		t.Errorf("no link left, yet: %s", res)
	}
}

// TestStateRootOfAnotherUser: another local user who creates agentrun's state directory
// first neither stops nor watches the victim's rootless runs. /tmp/agentrun-UID is no longer
// used; a state directory that is not the user's own is refused with what to do.
func TestStateRootOfAnotherUser(t *testing.T) {
	r := newRunner(t, true)
	squat := fmt.Sprintf("/tmp/agentrun-%d", r.uid)
	switch err := os.Mkdir(squat, 0o777); {
	case errors.Is(err, os.ErrExist):
		// An older agentrun of the test user's elsewhere on this machine uses it.
		t.Logf("%s exists already: not squatting it", squat)
	case err != nil:
		t.Fatal(err)
	default:
		defer os.RemoveAll(squat)
		if err := os.Chmod(squat, 0o777); err != nil {
			t.Fatal(err)
		}
		if res := r.sh(t, "echo ran"); res.code != 0 || res.stdout != "ran\n" {
			t.Errorf("with %s made by another user: want the run to go on, got %s", squat, res)
		}
		if entries, _ := os.ReadDir(squat); len(entries) > 0 {
			t.Errorf("the run used the other user's directory: %v", entries)
		}
	}

	rt := filepath.Join(r.home, "runtime")
	if err := os.Mkdir(rt, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(rt, r.uid, r.gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(rt, "agentrun"), 0o777); err != nil { // root's: another user's
		t.Fatal(err)
	}
	r.env = append(r.env, "XDG_RUNTIME_DIR="+rt)
	res := r.sh(t, "echo ran")
	if res.code != 125 || !strings.Contains(res.stderr, "belongs to uid 0, not to you") || !strings.Contains(res.stderr, "XDG_RUNTIME_DIR") {
		t.Errorf("with $XDG_RUNTIME_DIR/agentrun owned by another user: want a refusal that says what to do, got %s", res)
	}
	if err := os.Remove(filepath.Join(rt, "agentrun")); err != nil {
		t.Fatal(err)
	}
	if res := r.sh(t, "echo ran"); res.code != 0 || res.stdout != "ran\n" {
		t.Errorf("with $XDG_RUNTIME_DIR the user's own: want the run to go on, got %s", res)
	}
}
