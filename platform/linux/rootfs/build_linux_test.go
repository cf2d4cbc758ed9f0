package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// The flags and the deny file of platform/linux's plan (rootplan_linux.go).
const (
	roFlags      = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV
	rwFlags      = unix.MS_NOSUID | unix.MS_NODEV
	sysFlags     = unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV
	denyFilePath = "/.agentrun/deny"
)

// inMountNamespace runs fn on a thread of its own in a new mount namespace, as the stage
// builds its root; the thread ends with the namespace, leaving the host's mounts as they were.
func inMountNamespace(t *testing.T, fn func() error) error {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: builds a sandbox root in a mount namespace of its own")
	}
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread goes with its namespace
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			done <- err
			return
		}
		done <- fn()
	}()
	return <-done
}

// TestBuildRootStaysInTheRoot builds roots from host directories an attacker prepared: a
// symlink in a bound tree where a deny mount goes, and a mount point missing in a bound tree.
// The deny lands inside the new root (what the link names there), never on the host's target,
// and nothing is ever created in the user's directories.
func TestBuildRootStaysInTheRoot(t *testing.T) {
	host := t.TempDir()
	home := filepath.Join(host, "home")
	secret := filepath.Join(host, "outside", "secret")
	for _, d := range []string{filepath.Join(home, "real"), filepath.Dir(secret)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(secret, []byte("host secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	// home/link -> the host's outside directory, absolute: resolved in the new root it names
	// a path there, not the host's.
	if err := os.Symlink(filepath.Dir(secret), filepath.Join(home, "link")); err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	err := inMountNamespace(t, func() error {
		ops := []MountOp{
			{Kind: OpFile, Dst: denyFilePath},
			{Kind: OpBind, Dst: home, Dir: true, Flags: rwFlags},
			// The link's target, as the sandbox sees it, is made in agentrun's tmpfs.
			{Kind: OpFS, Src: "tmpfs", Dst: filepath.Dir(secret), Dir: true, Flags: unix.MS_RDONLY, Data: "mode=755,size=4k"},
			{Kind: OpFS, Src: "tmpfs", Dst: filepath.Join(home, "link"), Dir: true, Flags: sysFlags | unix.MS_RDONLY, Data: "mode=000,size=4k,nr_inodes=1"},
			// A mount point missing in a bound host tree is refused, not made.
			{Kind: OpFS, Src: "tmpfs", Dst: filepath.Join(home, "real", "made-by-agentrun"), Dir: true, Data: "size=4k"},
		}
		if err := Build(base, ops, nil, nil); !errors.Is(err, unix.ENOENT) {
			return errors.New("a mount point missing in a host directory was not refused: " + errString(err))
		}
		// On the host (this namespace's view of it), the link's target is untouched.
		if b, err := os.ReadFile(secret); err != nil || string(b) != "host secret" {
			return errors.New("the host's link target was covered: " + string(b))
		}
		// In the new root, the deny is where the link leads there (created in agentrun's
		// own tmpfs), and the bound tree is the user's.
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(base, filepath.Dir(secret)), &st); err != nil {
			return err
		}
		if st.Mode&0o777 != 0 {
			return errors.New("the deny mount is not at the link's target inside the root")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(home, "real", "made-by-agentrun")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a mount point was created in the user's directory: %v", err)
	}
}

// TestBuildRootReadOnlyAllTheWayDown binds a tree read-only that has a writable mount inside:
// the whole tree is read-only in the new root (MS_RDONLY on a recursive bind would have left
// the submount writable), and the same tree bound read-write stays writable.
func TestBuildRootReadOnlyAllTheWayDown(t *testing.T) {
	host := t.TempDir()
	ro, rw := filepath.Join(host, "ro"), filepath.Join(host, "rw") // a tree each, a writable mount inside
	for _, d := range []string{ro, rw} {
		if err := os.MkdirAll(filepath.Join(d, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	base := t.TempDir()
	err := inMountNamespace(t, func() error {
		for _, d := range []string{ro, rw} {
			if err := unix.Mount("tmpfs", filepath.Join(d, "sub"), "tmpfs", 0, "size=64k"); err != nil {
				return err
			}
		}
		ops := []MountOp{
			{Kind: OpBind, Dst: ro, Dir: true, Flags: roFlags},
			{Kind: OpBind, Dst: rw, Dir: true, Flags: rwFlags},
		}
		if err := Build(base, ops, nil, nil); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(base, ro, "sub", "x"), nil, 0o644); !errors.Is(err, unix.EROFS) {
			return errors.New("a submount of a read-only bind is writable: " + errString(err))
		}
		if err := os.WriteFile(filepath.Join(base, rw, "sub", "x"), nil, 0o644); err != nil {
			return errors.New("a submount of a read-write bind is not writable: " + err.Error())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// TestBuildRootBindsNothingThroughALink builds a root from a tree in which links were swapped
// in after the plan was made (a concurrent agent in the same workspace): a bind reached
// through a link that leads to agentrun's own tmpfs, or to nothing the root has, is skipped,
// and what the link names on the host never comes in.
func TestBuildRootBindsNothingThroughALink(t *testing.T) {
	host := t.TempDir()
	tree := filepath.Join(host, "tree")
	own := filepath.Join(host, "own") // a tmpfs of agentrun's in the root; a directory with a secret on the host
	for _, d := range []string{tree, own} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(own, "secret"), []byte("host secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, to := range map[string]string{"toown": own, "nowhere": filepath.Join(host, "nowhere-in-the-root")} {
		if err := os.Symlink(to, filepath.Join(tree, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(host, "nowhere-in-the-root"), 0o755); err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	err := inMountNamespace(t, func() error {
		ops := []MountOp{
			{Kind: OpFS, Src: "tmpfs", Dst: own, Dir: true, Data: "size=64k", Own: true},
			{Kind: OpBind, Dst: tree, Dir: true, Flags: rwFlags},
			{Kind: OpBind, Src: filepath.Join(tree, "toown"), Dst: filepath.Join(tree, "toown"), Dir: true, Flags: roFlags},
			{Kind: OpBind, Src: filepath.Join(tree, "nowhere"), Dst: filepath.Join(tree, "nowhere"), Dir: true, Flags: roFlags},
		}
		if err := Build(base, ops, nil, nil); err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(base, own, "secret")); !errors.Is(err, os.ErrNotExist) {
			return errors.New("the host directory a link named was bound over the sandbox's own: " + errString(err))
		}
		if _, err := os.Stat(filepath.Join(base, host, "nowhere-in-the-root")); !errors.Is(err, os.ErrNotExist) {
			return errors.New("a mount point was made where a link led out of the root: " + errString(err))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBuildRootBindsNothingThroughALinkIntoKernelTrees plants links in a bound tree that lead
// into the sandbox's own /sys and /proc — to a masked directory, to a file masked by
// /dev/null, to a process — and binds the policy's paths through them: nothing of the host's
// trees is bound there (its /sys and /proc mean other things), so the masks stay on top
// whatever order the steps come in.
func TestBuildRootBindsNothingThroughALinkIntoKernelTrees(t *testing.T) {
	host := t.TempDir()
	tree := filepath.Join(host, "tree")
	if err := os.MkdirAll(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{"sec": "/sys/kernel/security", "keys": "/proc/keys", "init": "/proc/1", "self": "/proc/self"}
	for name, to := range links {
		if err := os.Symlink(to, filepath.Join(tree, name)); err != nil {
			t.Fatal(err)
		}
	}
	base := t.TempDir()
	err := inMountNamespace(t, func() error {
		ops := []MountOp{
			{Kind: OpFS, Src: "proc", Dst: "/proc", Dir: true, Flags: sysFlags},
			{Kind: OpFS, Src: "sysfs", Dst: "/sys", Dir: true, Flags: sysFlags | unix.MS_RDONLY},
			{Kind: OpFS, Src: "tmpfs", Dst: "/dev", Dir: true, Flags: sysFlags, Data: "mode=755,size=64k", Own: true},
			{Kind: OpBind, Dst: "/dev/null", Flags: unix.MS_NOSUID | unix.MS_NOEXEC},
			{Kind: OpFS, Src: "tmpfs", Dst: "/sys/kernel/security", Dir: true, Flags: sysFlags | unix.MS_RDONLY, Data: "mode=000,size=4k,nr_inodes=1", Quiet: true},
			{Kind: OpSelf, Src: "/dev/null", Dst: "/proc/keys", Flags: roFlags | unix.MS_NOEXEC, Quiet: true},
			{Kind: OpBind, Dst: tree, Dir: true, Flags: rwFlags},
		}
		for name := range links {
			p := filepath.Join(tree, name)
			ops = append(ops, MountOp{Kind: OpBind, Dst: p, Dir: name != "keys", Flags: rwFlags})
		}
		if err := Build(base, ops, nil, nil); err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(base, "sys/kernel/security"), &st); err != nil {
			return fmt.Errorf("/sys/kernel/security: %w", err)
		}
		if st.Mode&0o777 != 0 {
			return fmt.Errorf("/sys/kernel/security is no longer the mode-000 mask (mode %o): the host's was bound over it through a link", st.Mode&0o777)
		}
		if err := unix.Stat(filepath.Join(base, "proc/keys"), &st); err != nil {
			return fmt.Errorf("/proc/keys: %w", err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFCHR {
			return fmt.Errorf("/proc/keys is no longer /dev/null (mode %o): the host's was bound over it through a link", st.Mode)
		}
		// The sandbox's /proc/1 and /proc/self are its own proc's: no bind lies on them.
		for _, p := range []string{"proc/1", "proc/self"} {
			if mounted, err := mountedAt(filepath.Join(base, p)); err != nil || mounted {
				return fmt.Errorf("%s has a bind on it through a link (%v)", p, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// mountedAt reports whether a mount lies on p (its mount ID differs from its parent's).
func mountedAt(p string) (bool, error) {
	id := func(p string) (uint64, error) {
		var stx unix.Statx_t
		if err := unix.Statx(unix.AT_FDCWD, p, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &stx); err != nil {
			return 0, err
		}
		return stx.Mnt_id, nil
	}
	a, err := id(p)
	if err != nil {
		return false, err
	}
	b, err := id(filepath.Dir(p))
	return a != b, err
}
