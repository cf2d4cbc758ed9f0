package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestBuildIDMaps builds roots with an idmapped bind of a directory the owner has on disk, as
// the stage does for the agent user, without a Pending (the namespace is made at the first
// idmapped bind, through the sandbox's /proc): the owner's files show as the agent's wherever
// the bind comes after /proc; a bind before /proc, and a mapping the kernel refuses, fail at the bind, saying
// why; and no descriptor of the namespace outlives Build, even when a step fails before the
// bind takes it.
func TestBuildIDMaps(t *testing.T) {
	const owner, agent = 4242, 5000
	host := t.TempDir()
	shared, other := filepath.Join(host, "shared"), filepath.Join(host, "other")
	for _, d := range []string{shared, other} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(shared, "file"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{shared, filepath.Join(shared, "file")} {
		if err := os.Lchown(p, owner, owner); err != nil {
			t.Fatal(err)
		}
	}
	m := &IDMapping{OwnerUID: owner, OwnerGID: owner, UID: agent, GID: agent}
	proc := MountOp{Kind: OpFS, Src: "proc", Dst: "/proc", Dir: true, Flags: sysFlags}
	bind := MountOp{Kind: OpBind, Dst: shared, Dir: true, Flags: rwFlags, IDMap: true}
	between := MountOp{Kind: OpBind, Dst: other, Dir: true, Flags: roFlags}
	missing := MountOp{Kind: OpBind, Dst: filepath.Join(host, "missing"), Dir: true, Flags: roFlags}
	bad := &IDMapping{OwnerUID: owner, OwnerGID: owner, UID: maxID + 1, GID: agent} // no valid uid_map
	for _, c := range []struct {
		name string
		ops  []MountOp
		m    *IDMapping
		fail string
	}{
		{"steps between /proc and the bind", []MountOp{proc, between, bind}, m, ""},
		{"steps before /proc", []MountOp{between, proc, bind}, m, ""},
		{"the bind right after /proc", []MountOp{proc, bind, between}, m, ""},
		{"the bind before /proc", []MountOp{bind, proc}, m, "opening the sandbox's /proc for the idmapping"},
		{"a mapping the kernel refuses", []MountOp{proc, between, bind}, bad, "writing the idmapping's uid_map"},
		{"a step failing before the bind", []MountOp{proc, missing, bind}, m, "no such file or directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := t.TempDir()
			err := inMountNamespace(t, func() error {
				if err := Build(base, c.ops, c.m, nil); err != nil {
					return err
				}
				for _, p := range []string{shared, filepath.Join(shared, "file")} {
					var st unix.Stat_t
					if err := unix.Lstat(filepath.Join(base, p), &st); err != nil {
						return err
					}
					if st.Uid != agent || st.Gid != agent {
						return errors.New(p + " does not show as the agent's through the idmapped bind")
					}
				}
				return nil
			})
			if fd := userNamespaceFD(t); fd != "" {
				t.Errorf("Build left the idmapping's user namespace open: descriptor %s", fd)
			}
			switch {
			case c.fail == "" && err != nil:
				t.Fatal(err)
			case c.fail != "" && (err == nil || !strings.Contains(err.Error(), c.fail)):
				t.Fatalf("got %v, want an error saying %q", err, c.fail)
			}
		})
	}
}

// userNamespaceFD is a descriptor of this process that holds a user namespace, "" for none.
func userNamespaceFD(t *testing.T) string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.HasPrefix(l, "user:[") {
			return e.Name() + " (" + l + ")"
		}
	}
	return ""
}
