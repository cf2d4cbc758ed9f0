package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// agentUID is the uid agentrun gives the agent when it runs as root for root (see
// platform/linux's agentUser).
const agentUID = "1879113728"

// TestRootAgentIsNotRoot runs agentrun as root without sudo, as CI containers and cloud VMs
// do: the agent runs as an unprivileged uid, so a file only root may read is unreadable by
// plain permissions (its world-readable twin is read), while the home's named paths, root's
// 0600 files among them, and the workspace stay the agent's; what it writes there belongs to
// root on the host; it cannot leave a set-ID program behind; AGENTRUN_AS_ROOT=1 keeps it root.
func TestRootAgentIsNotRoot(t *testing.T) {
	r := newRunner(t, false)
	secret, twin := "/etc/agentrun-test-root-only", "/etc/agentrun-test-world-readable"
	for path, mode := range map[string]os.FileMode{secret: 0o600, twin: 0o644} {
		if _, err := os.Lstat(path); err == nil {
			t.Fatalf("%s exists: not the test's to overwrite", path)
		}
		if err := os.WriteFile(path, []byte(filepath.Base(path)+"\n"), mode); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(path) })
	}
	res := r.sh(t, `id -u; id -un; cat `+secret+`; cat `+twin+`; cat ~/notes.txt
echo made > made.txt && mkdir -p sub && echo deep > sub/file && stat -c 'inside %u' made.txt
cp /bin/sh ./shell && chmod u+s ./shell; chmod g+s ./shell; install -m 4755 /bin/sh ./shell2; echo set-id tried
ln -s `+secret+` via-link; cat via-link; ln `+secret+` via-hardlink; cat via-hardlink; cat /proc/1/root`+secret+`; echo around tried`)
	for _, want := range []string{agentUID + "\nagent\n", "agentrun-test-world-readable\n", "readable notes\n", "inside " + agentUID + "\n", "set-id tried\n", "around tried\n"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("want %q in the agent's output; %s", want, res)
		}
	}
	if strings.Contains(res.stdout, "agentrun-test-root-only") || !strings.Contains(res.stderr, secret+": Permission denied") {
		t.Errorf("the root-only file was not refused by permissions: %s", res)
	}
	// The ways around: a link the agent makes in its idmapped workspace, a hard link (another
	// mount: refused), the stage's root through /proc.
	for _, want := range []string{"via-link: Permission denied", "via-hardlink"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("want %q refused: %s", want, res)
		}
	}
	for _, p := range []string{"made.txt", "sub", "sub/file", "shell", "shell2"} {
		fi, err := os.Lstat(filepath.Join(r.ws, p))
		if err != nil {
			if p == "shell2" {
				continue // install may remove what it could not chmod
			}
			t.Fatalf("%s: %v; %s", p, err, res)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != 0 || st.Gid != 0 {
			t.Errorf("%s belongs to %d:%d on the host, want root's", p, st.Uid, st.Gid)
		}
		if fi.Mode()&(os.ModeSetuid|os.ModeSetgid) != 0 {
			t.Errorf("%s is set-ID on the host: %v", p, fi.Mode())
		}
	}
	r.env = []string{"AGENTRUN_AS_ROOT=1"}
	res = r.sh(t, `id -u; cat `+secret)
	if !strings.HasPrefix(res.stdout, "0\nagentrun-test-root-only\n") {
		t.Errorf("AGENTRUN_AS_ROOT=1: want the agent as root, reading the root-only file; %s", res)
	}
}

// TestRootAgentSaysWhoItIs checks that --dry-run and doctor name the agent's uid when
// agentrun runs as root for root, and that AGENTRUN_AS_ROOT=1 says what it gives up.
func TestRootAgentSaysWhoItIs(t *testing.T) {
	r := newRunner(t, false)
	res := r.run(t, "--profile", r.profile, "--dry-run", "--", "true")
	if !strings.Contains(res.stdout, "layer agent user") || !strings.Contains(res.stdout, "on: the agent runs as uid "+agentUID+" (agent), not root") {
		t.Errorf("--dry-run does not name the agent's uid: %s", res)
	}
	res = r.run(t, "doctor")
	if !strings.Contains(res.stdout, "agent user") || !strings.Contains(res.stdout, "uid "+agentUID) {
		t.Errorf("doctor does not name the agent's uid: %s", res)
	}
	res = r.run(t, "--profile", r.profile, "--as-root", "--dry-run", "--", "true")
	if !strings.Contains(res.stdout, "AGENTRUN_AS_ROOT=1: the agent runs as root") {
		t.Errorf("--dry-run --as-root: %s", res)
	}
	r.env = []string{"AGENTRUN_AS_ROOT=1"}
	res = r.run(t, "--profile", r.profile, "--dry-run", "--", "true")
	if !strings.Contains(res.stdout, "AGENTRUN_AS_ROOT=1: the agent runs as root") {
		t.Errorf("--dry-run with AGENTRUN_AS_ROOT=1: %s", res)
	}
}

// TestRootAgentFailsClosedWithoutIdmap runs agentrun as root for root in a workspace on a file
// system that cannot be idmapped (ramfs): the run stops, naming the layer and the ways out,
// and the agent never runs as root instead.
func TestRootAgentFailsClosedWithoutIdmap(t *testing.T) {
	r := newRunner(t, false)
	ws := filepath.Join(filepath.Dir(r.home), "ramfs")
	if err := os.Mkdir(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "ramfs", "ramfs", ws).CombinedOutput(); err != nil {
		t.Skipf("no ramfs here: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", ws).Run() })
	r.ws = ws
	res := r.run(t, "--profile", r.profile, "--network", "none", "--", "sh", "-c", "id -u > ran")
	if res.code != 125 || !strings.Contains(res.stderr, "the agent user layer cannot idmap "+ws) || !strings.Contains(res.stderr, "nor POSIX ACLs") || !strings.Contains(res.stderr, "AGENTRUN_AS_ROOT=1") {
		t.Errorf("want the run refused, naming the layer and the fix; %s", res)
	}
	if _, err := os.Stat(filepath.Join(ws, "ran")); err == nil {
		t.Errorf("the agent ran")
	}
}
