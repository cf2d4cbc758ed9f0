package rootfs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// envPendingChild makes the test binary the child of TestStartIDMapFromAChildPIDNamespace:
// the directory whose owner it checks through the namespace StartIDMap makes.
const envPendingChild = "AGENTRUN_TEST_PENDING_CHILD"

const pendingOwner, pendingAgent = 4242, 5000

func TestMain(m *testing.M) {
	if os.Getenv(envTracedChild) != "" {
		tracedChild()
	}
	if dir := os.Getenv(envPendingChild); dir != "" {
		if err := pendingChild(dir); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("ok")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// pendingChild is PID 1 of a new PID namespace whose /proc is still its parent's, as the stage
// is when it starts: it makes the idmapping's namespace through that /proc and idmaps a
// detached copy of dir with it.
func pendingChild(dir string) error {
	if os.Getpid() != 1 {
		return fmt.Errorf("not PID 1 of a new PID namespace but %d", os.Getpid())
	}
	p := StartIDMap(IDMapping{OwnerUID: pendingOwner, OwnerGID: pendingOwner, UID: pendingAgent, GID: pendingAgent})
	if p == nil {
		return fmt.Errorf("StartIDMap found no /proc")
	}
	userns, err := p.take()
	if err != nil {
		return err
	}
	defer unix.Close(userns)
	tree, err := unix.OpenTree(unix.AT_FDCWD, dir, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return err
	}
	defer unix.Close(tree)
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns)}); err != nil {
		return fmt.Errorf("idmapping a copy of %s: %w", dir, err)
	}
	var st unix.Stat_t
	if err := unix.Fstatat(tree, "", &st, unix.AT_EMPTY_PATH); err != nil {
		return err
	}
	if st.Uid != pendingAgent || st.Gid != pendingAgent {
		return fmt.Errorf("the owner shows as %d:%d through the idmapping, not as the agent", st.Uid, st.Gid)
	}
	return nil
}

// TestStartIDMapFromAChildPIDNamespace makes the idmapping's namespace as the stage does when
// it starts, in a new PID namespace whose /proc numbers processes otherwise (the process made
// for it is found by its pidfd), and checks the namespace maps the owner to the agent.
func TestStartIDMapFromAChildPIDNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: a new PID namespace and an idmapped mount")
	}
	dir := t.TempDir()
	if err := os.Chown(dir, pendingOwner, pendingOwner); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envPendingChild+"="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("the child: %v: %s", err, out)
	}
}

// TestBuildTakesPending builds roots with a Pending: for the root's idmapping it is used, for
// another it is closed and the root makes its own; no namespace descriptor outlives Build,
// one that fails at its first step included.
func TestBuildTakesPending(t *testing.T) {
	host := t.TempDir()
	shared := filepath.Join(host, "shared")
	if err := os.MkdirAll(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(shared, pendingOwner, pendingOwner); err != nil {
		t.Fatal(err)
	}
	m := IDMapping{OwnerUID: pendingOwner, OwnerGID: pendingOwner, UID: pendingAgent, GID: pendingAgent}
	other := IDMapping{OwnerUID: pendingOwner, OwnerGID: pendingOwner, UID: pendingAgent + 1, GID: pendingAgent + 1}
	ops := []MountOp{
		{Kind: OpFS, Src: "proc", Dst: "/proc", Dir: true, Flags: sysFlags},
		{Kind: OpBind, Dst: shared, Dir: true, Flags: rwFlags, IDMap: true},
	}
	for _, pm := range []IDMapping{m, other} {
		base := t.TempDir()
		err := inMountNamespace(t, func() error {
			if err := Build(base, ops, &m, StartIDMap(pm)); err != nil {
				return err
			}
			var st unix.Stat_t
			if err := unix.Lstat(filepath.Join(base, shared), &st); err != nil {
				return err
			}
			if st.Uid != pendingAgent {
				return fmt.Errorf("%s shows as %d, not as the agent", shared, st.Uid)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("a Pending for %+v: %v", pm, err)
		}
		if fd := userNamespaceFD(t); fd != "" {
			t.Errorf("Build left a user namespace open: descriptor %s", fd)
		}
	}
	// A Build that fails at its first step still takes its Pending.
	p := StartIDMap(m)
	err := inMountNamespace(t, func() error {
		return Build(filepath.Join(host, "missing"), ops, &m, p)
	})
	if err == nil {
		t.Fatal("a root built on a missing directory")
	}
	if !p.given.Load() {
		t.Error("a Build that failed at its first step did not take its Pending")
		p.Close()
	}
	if fd := userNamespaceFD(t); fd != "" {
		t.Errorf("a failed Build left a user namespace open: descriptor %s", fd)
	}
}
