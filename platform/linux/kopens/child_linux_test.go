//go:build linux && amd64

package kopens

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const envChild, envDir = "KOPENS_TEST_CHILD", "KOPENS_TEST_DIR"

func TestMain(m *testing.M) {
	if os.Getenv(envChild) != "" {
		if err := child(os.Getenv(envDir)); err != nil {
			fmt.Fprintln(os.Stderr, "kopens test child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child runs in new mount and PID namespaces: it binds dir/src on dir/bind, waits for a byte
// on stdin, then opens the files of the scenario (the paths the test expects, in order).
func child(dir string) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return err
	}
	if err := unix.Mount(filepath.Join(dir, "src"), filepath.Join(dir, "bind"), "", unix.MS_BIND, ""); err != nil {
		return err
	}
	if _, err := os.Stdin.Read(make([]byte, 1)); err != nil {
		return err
	}
	open := func(fd int, err error) error {
		if err != nil {
			return err
		}
		return unix.Close(fd)
	}
	// 1: openat, plain
	if err := open(unix.Open(filepath.Join(dir, "real/file"), unix.O_RDONLY|unix.O_NOFOLLOW, 0)); err != nil {
		return err
	}
	// 2: through the bind mount
	if err := open(unix.Open(filepath.Join(dir, "bind/inner"), unix.O_RDONLY, 0)); err != nil {
		return err
	}
	// 3: through a symlink
	if err := open(unix.Open(filepath.Join(dir, "link/file"), unix.O_RDONLY, 0)); err != nil {
		return err
	}
	// 4: open(2), relative to the working directory
	if err := os.Chdir(filepath.Join(dir, "real")); err != nil {
		return err
	}
	p, _ := unix.BytePtrFromString("file")
	fd, _, e := unix.Syscall(unix.SYS_OPEN, uintptr(unsafePointer(p)), unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if e != 0 {
		return e
	}
	unix.Close(int(fd))
	// 5: openat2, relative to a descriptor, a directory
	dfd, err := unix.Open(filepath.Join(dir, "src"), unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	if err := open(unix.Openat2(dfd, ".", &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_DIRECTORY})); err != nil {
		return err
	}
	unix.Close(dfd)
	// 7: in a chroot: the path from the task's root
	if err := unix.Chroot(dir); err != nil {
		return err
	}
	return open(unix.Open("/bind/inner", unix.O_RDONLY, 0))
}

func TestPaths(t *testing.T) {
	dir := rootTempDir(t)
	for _, d := range []string{"real", "src", "bind"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"real/file", "src/inner"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("real", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	want := []string{
		dir + "/real/file",
		dir + "/bind/inner",
		dir + "/real/file",
		dir + "/real/file",
		dir + "/src", // the directory descriptor, then openat2 of "."
		dir + "/src",
		"/bind/inner",
	}
	// The flags as passed: openat's third argument, open's second, none for openat2.
	wantFlags := []uint32{unix.O_NOFOLLOW, 0, 0, unix.O_NONBLOCK, unix.O_DIRECTORY, 0, 0}

	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"=1", envDir+"="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWPID, Pdeathsig: syscall.SIGKILL}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	// The namespace exists once the child does; its binary's own startup opens come before the
	// recorder is loaded.
	dev, ino := namespaceOf(t, cmd.Process.Pid)
	r, err := Load(Options{NsDev: dev, NsIno: ino})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := stdin.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	var got []string
	var gotFlags []uint32
	for len(got) < len(want) {
		o, err := r.Read(time.Now().Add(5 * time.Second))
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		if o.Tgid != uint32(cmd.Process.Pid) || o.NsTgid != 1 || o.Pid != o.Tid {
			t.Errorf("record of host tgid %d (BTF pid %d, tid %d, namespace tgid %d); the child is %d, 1 in its namespace", o.Tgid, o.Pid, o.Tid, o.NsTgid, cmd.Process.Pid)
		}
		if o.Status != Complete {
			t.Errorf("%q: status %d", o.Path, o.Status)
		}
		if o.Comm != "exe" { // the child is /proc/self/exe
			t.Errorf("%q: comm %q, want \"exe\"", o.Path, o.Comm)
		}
		t.Logf("nr %d fd %d tid %d flags %#x: %s", o.Nr, o.Fd, o.Tid, o.Flags, o.Path)
		got = append(got, o.Path)
		gotFlags = append(gotFlags, o.Flags)
	}
	if err := <-waitErr; err != nil {
		t.Fatalf("child: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if !slices.Equal(gotFlags, wantFlags) {
		t.Errorf("flags %#x, want %#x", gotFlags, wantFlags)
	}
	if n := r.Drops(); n != 0 {
		t.Errorf("%d drops", n)
	}
}

// rootTempDir is a temporary directory by its real path (the recorder records real paths),
// for a test that needs root; it skips the test otherwise.
func rootTempDir(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
