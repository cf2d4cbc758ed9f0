package integration

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestSudoRunsAsInvokingUser runs agentrun as root the way sudo leaves it (SUDO_UID and
// SUDO_GID set, HOME=/root): the agent runs as the user who ran sudo, in their home, and what
// it creates belongs to them; their secrets stay denied.
func TestSudoRunsAsInvokingUser(t *testing.T) {
	c := newSudoCaller(t)
	u, uid, gid, ws := c.u, c.uid, c.gid, c.ws
	secret := filepath.Join(u.HomeDir, ".ssh", "id_ed25519")
	if err := os.MkdirAll(filepath.Dir(secret), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secret, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(secret)) })
	c.chown(t, filepath.Dir(secret))
	_, out := c.run(t, "--", "sh", "-c", "id -u; echo $HOME; echo mine > made.txt; cat ~/.ssh/id_ed25519")
	if !strings.Contains(out, fmt.Sprintf("%d\n%s\n", uid, u.HomeDir)) || !strings.Contains(out, "No such file or directory") {
		t.Errorf("want the agent as uid %d in %s, its key absent (base does not name it); got:\n%s", uid, u.HomeDir, out)
	}
	fi, err := os.Stat(filepath.Join(ws, "made.txt"))
	if err != nil {
		t.Fatalf("the agent did not write in the workspace: %v\n%s", err, out)
	}
	if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != uid {
		t.Errorf("made.txt belongs to uid %d, want %d", st.Uid, uid)
	}
	// The denial went to the user's event store, which is theirs: agentrun log works
	// without sudo.
	state := filepath.Join(u.HomeDir, ".local")
	t.Cleanup(func() { os.RemoveAll(state) })
	db := filepath.Join(state, "state", "agentrun", "events.db")
	if fi, err := os.Stat(db); err != nil {
		t.Errorf("no event store in the user's home: %v", err)
	} else if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != uid {
		t.Errorf("%s belongs to uid %d, want %d", db, st.Uid, uid)
	}
	// A run without events goes to the store's run journal, which is theirs too, and which
	// their next agentrun log imports.
	if code, out := c.run(t, "--", "true"); code != 0 {
		t.Fatalf("a run without events: exit %d\n%s", code, out)
	}
	journal := filepath.Join(state, "state", "agentrun", "runs.journal")
	if fi, err := os.Stat(journal); err != nil {
		t.Errorf("no run journal in the user's home: %v", err)
	} else if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != uid || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s belongs to uid %d with mode %v, want %d and 0600", journal, st.Uid, fi.Mode().Perm(), uid)
	}
	log := exec.Command("setpriv", "--reuid", strconv.Itoa(uid), "--regid", strconv.Itoa(gid), "--init-groups", "--", agentrunBin, "log", "--verdict", "denied")
	log.Env = []string{"HOME=" + u.HomeDir, "PATH=/usr/bin:/bin"}
	if out, err := log.CombinedOutput(); err != nil || !strings.Contains(string(out), "denied      file read "+secret) {
		t.Errorf("agentrun log as the user: %v\n%s", err, out)
	}
	if _, err := os.Stat(journal); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("agentrun log as the user left the run journal: %v", err)
	}
}

// sudoCaller is the test user as sudo leaves agentrun for them (root, SUDO_UID and SUDO_GID
// set, HOME=/root), with a workspace of theirs in their home.
type sudoCaller struct {
	u        *user.User
	uid, gid int
	ws       string
	env      []string
}

func newSudoCaller(t *testing.T) *sudoCaller {
	t.Helper()
	requireRoot(t)
	uid, gid := testUser(t)
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		t.Fatal(err)
	}
	ws, err := os.MkdirTemp(u.HomeDir, "ws-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(ws) })
	if err := os.Chown(ws, uid, gid); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=/root", "PATH=/usr/bin:/bin", fmt.Sprintf("SUDO_UID=%d", uid), fmt.Sprintf("SUDO_GID=%d", gid), "SUDO_USER=" + u.Username}
	return &sudoCaller{u: u, uid: uid, gid: gid, ws: ws, env: env}
}

// rootsDir is a directory of root's that every user may look in (0755), removed after t.
func rootsDir(t *testing.T) string {
	t.Helper()
	roots, err := os.MkdirTemp("/var/tmp", "agentrun-roots-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(roots) })
	if err := os.Chmod(roots, 0o755); err != nil {
		t.Fatal(err)
	}
	return roots
}

// run runs agentrun with args in the workspace and returns its exit status and output.
func (c *sudoCaller) run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(agentrunBin, args...)
	cmd.Dir, cmd.Env = c.ws, c.env
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// chown gives path and everything in it, links themselves included, to the caller.
func (c *sudoCaller) chown(t *testing.T, path string) {
	t.Helper()
	if out, err := exec.Command("chown", "-hR", fmt.Sprintf("%d:%d", c.uid, c.gid), path).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v: %s", err, out)
	}
}

// TestSudoUsesTheUsersRightsOnTheirFiles: under sudo, what agentrun reads and writes for the
// user — their profiles, a --profile FILE, the --events file — it reads and writes with their
// rights. A profile linked to a file only root may read is refused as it would be for them,
// and none of its lines appear in the errors that quote a profile; --events cannot append to
// a place only root may write; an events file in their workspace is theirs.
func TestSudoUsesTheUsersRightsOnTheirFiles(t *testing.T) {
	c := newSudoCaller(t)
	u, uid := c.u, c.uid
	rootOnly := t.TempDir() // 0700 root
	secret := filepath.Join(rootOnly, "secret.yaml")
	const marker = "agentrun_root_only_marker"
	if err := os.WriteFile(secret, []byte(marker+": 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) { return c.run(t, args...) }

	// --profile FILE, and the same file linked into the user's profiles directory.
	if code, out := run("--profile", secret, "--dry-run", "--", "true"); code != 125 || strings.Contains(out, marker) || !strings.Contains(out, "permission denied") {
		t.Errorf("--profile with a file only root may read: exit %d, want 125, permission denied and none of its lines:\n%s", code, out)
	}
	config, local := filepath.Join(u.HomeDir, ".config"), filepath.Join(u.HomeDir, ".local")
	for _, d := range []string{config, local} {
		if _, err := os.Lstat(d); err != nil {
			t.Cleanup(func() { os.RemoveAll(d) }) // made here: the profiles, the event store
		}
	}
	dir := filepath.Join(config, "agentrun", "profiles")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	leak := filepath.Join(dir, "leak-"+strconv.Itoa(os.Getpid())+".yaml")
	if err := os.Symlink(secret, leak); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(leak) })
	c.chown(t, config)
	for _, args := range [][]string{{"profiles", "list"}, {"--dry-run", "--", "true"}} {
		if code, out := run(args...); code == 0 || strings.Contains(out, marker) || !strings.Contains(out, "permission denied") {
			t.Errorf("agentrun %s with a profile linked to a file only root may read: exit %d, want an error saying permission denied and none of its lines:\n%s", strings.Join(args, " "), code, out)
		}
	}
	if err := os.Remove(leak); err != nil {
		t.Fatal(err)
	}
	// The way around the file: the profiles directory itself a link to root's directory.
	moved := dir + ".moved"
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(rootOnly, dir); err != nil {
		t.Fatal(err)
	}
	c.chown(t, config)
	if code, out := run("profiles", "list"); code == 0 || strings.Contains(out, marker) || !strings.Contains(out, "permission denied") {
		t.Errorf("agentrun profiles list with the profiles directory linked to root's: exit %d, want an error saying permission denied and none of its lines:\n%s", code, out)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(moved, dir); err != nil {
		t.Fatal(err)
	}

	// --events and --report through a link of the user's to a file of root's they may not
	// write: the events file is refused, the report replaces the link, root's file stays.
	roots := rootsDir(t)
	target := filepath.Join(roots, "roots-file")
	if err := os.WriteFile(target, []byte("root's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(c.ws, "link.jsonl")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	c.chown(t, link)
	if code, out := run("--network=none", "--events", link, "--", "true"); code != 125 || !strings.Contains(out, "permission denied") {
		t.Errorf("--events through a link to root's file: exit %d, want 125 and permission denied:\n%s", code, out)
	}
	if code, out := run("--network=none", "--report", link, "--", "true"); code != 0 {
		t.Errorf("--report through a link to root's file: exit %d, want 0 (the link replaced):\n%s", code, out)
	}
	if data, err := os.ReadFile(target); err != nil || string(data) != "root's\n" {
		t.Errorf("root's file behind the link now holds %q (%v)", data, err)
	}

	// --events: not where only root may write; in the workspace, the user's file.
	events := filepath.Join(rootOnly, "events.jsonl")
	if code, out := run("--network=none", "--events", events, "--", "true"); code != 125 || !strings.Contains(out, "permission denied") {
		t.Errorf("--events where only root may write: exit %d, want 125 and permission denied:\n%s", code, out)
	}
	if _, err := os.Lstat(events); err == nil {
		t.Errorf("%s was made", events)
	}
	mine := filepath.Join(c.ws, "events.jsonl")
	if code, out := run("--network=none", "--events", mine, "--", "sh", "-c", "cat /etc/shadow"); code == 0 {
		t.Errorf("cat /etc/shadow succeeded:\n%s", out)
	}
	if fi, err := os.Stat(mine); err != nil || fi.Size() == 0 {
		t.Errorf("no events in %s: %v", mine, err)
	} else if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != uid {
		t.Errorf("%s belongs to uid %d, want %d", mine, st.Uid, uid)
	}
}

// TestSudoStoreStaysInTheUsersTree: under sudo, a link in the user's event store — the
// directory itself, or the database, its -wal or its -shm — to a place of root's does not make
// root create the store's files there (nor give them to the user): the directory must be
// theirs, SQLite opens the files with their rights, and the run says its events are not
// stored. Without links, the store is made and is theirs (TestSudoRunsAsInvokingUser).
func TestSudoStoreStaysInTheUsersTree(t *testing.T) {
	c := newSudoCaller(t)
	u := c.u
	state := filepath.Join(u.HomeDir, ".local", "state")
	store := filepath.Join(state, "agentrun")
	if _, err := os.Lstat(store); err == nil {
		t.Skipf("%s has an event store of its own; not touching it", u.Username)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Join(u.HomeDir, ".local")) })
	roots := rootsDir(t)
	for _, link := range []string{"", "events.db", "events.db-wal", "events.db-shm"} {
		t.Run("link "+link, func(t *testing.T) {
			if err := os.RemoveAll(store); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(state, 0o755); err != nil {
				t.Fatal(err)
			}
			want := "events are not stored"
			if link == "" {
				want = "must be yours"
				if err := os.Symlink(roots, store); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := os.Mkdir(store, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(filepath.Join(roots, "made-"+link), filepath.Join(store, link)); err != nil {
					t.Fatal(err)
				}
			}
			c.chown(t, filepath.Join(u.HomeDir, ".local"))
			for _, args := range [][]string{{"--network=none", "--", "sh", "-c", "cat /etc/shadow"}, {"--network=none", "--", "true"}} {
				_, out := c.run(t, args...)
				if args[len(args)-1] != "true" && !strings.Contains(out, want) {
					t.Errorf("agentrun %s: want %q:\n%s", strings.Join(args, " "), want, out)
				}
			}
			if ents, err := os.ReadDir(roots); err != nil || len(ents) > 0 {
				t.Errorf("root's directory holds %v (%v); want nothing", ents, err)
			}
		})
	}
}
