package integration

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// fuseWorkspace mounts a fuse-overlayfs, a file system with POSIX ACLs that cannot be
// idmapped (its server does not opt in), beside the runner's home, with a few of root's files
// and a link to /etc/shadow in it, and makes it the runner's workspace.
func fuseWorkspace(t *testing.T, r *runner) string {
	t.Helper()
	if _, err := exec.LookPath("fuse-overlayfs"); err != nil {
		t.Skip("fuse-overlayfs is not installed (scripts/test.sh installs it): no file system here has ACLs but no idmapped mounts")
	}
	base := filepath.Dir(r.home)
	lower, ws := filepath.Join(base, "lower"), filepath.Join(base, "fuse")
	for _, d := range []string{lower + "/sub", base + "/upper", base + "/work", ws} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, mode := range map[string]os.FileMode{"README.md": 0o644, "sub/deep": 0o640, "run.sh": 0o755, "private": 0o600} {
		if err := os.WriteFile(filepath.Join(lower, name), []byte("#!/bin/sh\necho ran "+name+"\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/etc/shadow", filepath.Join(lower, "shadow-link")); err != nil {
		t.Fatal(err)
	}
	opts := "lowerdir=" + lower + ",upperdir=" + base + "/upper,workdir=" + base + "/work"
	if out, err := exec.Command("fuse-overlayfs", "-o", opts, ws).CombinedOutput(); err != nil {
		t.Skipf("mounting a fuse-overlayfs (needs /dev/fuse): %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", ws).Run() })
	return ws
}

// aclUIDs are the users a file's ACL names (access and default), read without following a link.
func aclUIDs(t *testing.T, path string) []uint32 {
	t.Helper()
	var ids []uint32
	for _, name := range []string{"system.posix_acl_access", "system.posix_acl_default"} {
		buf := make([]byte, 4096)
		n, err := unix.Lgetxattr(path, name, buf)
		if errors.Is(err, unix.ENODATA) || errors.Is(err, unix.EOPNOTSUPP) {
			continue
		}
		if err != nil {
			t.Fatalf("reading %s of %s: %v", name, path, err)
		}
		for b := buf[4:n]; len(b) >= 8; b = b[8:] {
			if binary.LittleEndian.Uint16(b) == 2 { // ACL_USER
				ids = append(ids, binary.LittleEndian.Uint32(b[4:]))
			}
		}
	}
	return ids
}

// hostState is each file's owner, mode and ACL'd users in a tree, links not followed.
func hostState(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		out[p] = strings.TrimSpace(strings.Join([]string{fi.Mode().String(), itoa(st.Uid), itoa(st.Gid), uidList(aclUIDs(t, p))}, " "))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

func uidList(ids []uint32) string {
	var b bytes.Buffer
	for _, id := range ids {
		b.WriteString("acl:" + itoa(id) + " ")
	}
	return b.String()
}

// TestRootAgentACLFallback runs agentrun as root for root in a workspace that cannot be
// idmapped but has ACLs: the agent, uid 1879113728, reads and writes there through ACL entries
// for its uid; a root-only file in /etc stays unreadable; afterwards everything in the
// workspace belongs to root again, with its modes as they were and no ACL entry for the
// agent anywhere; a link to /etc/shadow, planted before or during the run, is followed by
// neither the grant nor the undo.
func TestRootAgentACLFallback(t *testing.T) {
	r := newRunner(t, false)
	secret := "/etc/agentrun-test-acl-root-only"
	if _, err := os.Lstat(secret); err == nil {
		t.Fatalf("%s exists: not the test's to overwrite", secret)
	}
	if err := os.WriteFile(secret, []byte("root only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(secret) })
	ws := fuseWorkspace(t, r)
	r.ws = ws
	shadowBefore := hostState(t, "/etc/shadow")
	before := hostState(t, ws)
	res := r.sh(t, `id -u; stat -c 'readme %u' README.md; cat private sub/deep; ./run.sh; echo more >> README.md
echo made > made.txt && mkdir -p d/e && echo deep > d/e/f && stat -c 'inside %u' made.txt
ln -s /etc/shadow planted; ln -s /etc planted-dir; cat `+secret)
	for _, want := range []string{agentUID + "\n", "readme 0\n", "ran private\n", "ran sub/deep\n", "ran run.sh\n", "inside " + agentUID + "\n"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("want %q in the agent's output (readme 0: the workspace was not idmapped); %s", want, res)
		}
	}
	if strings.Contains(res.stdout, "root only") || !strings.Contains(res.stderr, secret+": Permission denied") {
		t.Errorf("the root-only file was not refused: %s", res)
	}
	after := hostState(t, ws)
	for p, was := range before {
		if after[p] != was {
			t.Errorf("%s: was %q, is %q after the run", p, was, after[p])
		}
	}
	for _, p := range []string{"made.txt", "d", "d/e", "d/e/f", "planted", "planted-dir"} {
		got, ok := after[filepath.Join(ws, p)]
		if !ok {
			t.Errorf("%s: not made; %s", p, res)
			continue
		}
		if f := strings.Fields(got); len(f) != 3 || f[1] != "0" || f[2] != "0" {
			t.Errorf("%s: %q after the run, want root's with no ACL entry", p, got)
		}
	}
	if s := hostState(t, "/etc/shadow"); s["/etc/shadow"] != shadowBefore["/etc/shadow"] {
		t.Errorf("/etc/shadow changed: %q, was %q", s["/etc/shadow"], shadowBefore["/etc/shadow"])
	}
}

// TestRootAgentACLGrantsUndoneAfterSIGKILL SIGKILLs agentrun while its agent runs in a workspace
// it reaches through ACLs: the next start takes the grants back.
func TestRootAgentACLGrantsUndoneAfterSIGKILL(t *testing.T) {
	r := newRunner(t, false)
	home := r.ws
	ws := fuseWorkspace(t, r)
	r.ws = ws
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := r.command(ctx, "--profile", r.profile, "--network", "none", "--", "sh", "-c", "echo x > killed.txt; exec sleep 60.625")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForProcess(t, "sleep 60.625")
	if !strings.Contains(hostState(t, ws)[ws], "acl:"+agentUID) {
		t.Fatalf("the workspace has no ACL entry for the agent while it runs: %q; the test would prove nothing", hostState(t, ws)[ws])
	}
	r.ws = home // the next run's own workspace is idmapped: only CleanStale can undo the grants
	killThenStartAgain(t, r, cmd, "sleep 60.625")
	for p, s := range hostState(t, ws) {
		if f := strings.Fields(s); len(f) != 3 || f[1] != "0" || f[2] != "0" {
			t.Errorf("%s: %q after the next start, want root's with no ACL entry", p, s)
		}
	}
}
