package kdenials

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The test binary re-executed as a sandbox stand-in: started as root in new namespaces, it
// makes its read-only bind (in its own mount namespace, gone with it), becomes nobody, waits
// for the test to load the recorder (a byte on stdin), then makes the calls of its scenario and
// checks that the kernel answered each as expected, so that a record's absence means
// something.
const (
	envScenario = "KDENIALS_TEST_CHILD"
	envDir      = "KDENIALS_TEST_DIR"
	floodCount  = 30000
	nobody      = 65534
)

func childMain() int {
	if err := child(os.Getenv(envScenario), os.Getenv(envDir)); err != nil {
		fmt.Fprintln(os.Stderr, "kdenials test child:", err)
		return 1
	}
	return 0
}

func child(scenario, dir string) error {
	if scenario == "denials" {
		ro := filepath.Join(dir, "ro")
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			return fmt.Errorf("making the mount namespace private: %w", err)
		}
		if err := unix.Mount(ro, ro, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("binding %s: %w", ro, err)
		}
		if err := unix.Mount("", ro, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
			return fmt.Errorf("making %s read-only: %w", ro, err)
		}
	}
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("dropping groups: %w", err)
	}
	if err := syscall.Setresgid(nobody, nobody, nobody); err != nil {
		return fmt.Errorf("becoming group nobody: %w", err)
	}
	if err := syscall.Setresuid(nobody, nobody, nobody); err != nil {
		return fmt.Errorf("becoming nobody: %w", err)
	}
	if _, err := os.Stdin.Read(make([]byte, 1)); err != nil {
		return fmt.Errorf("waiting for the test: %w", err)
	}
	secret := filepath.Join(dir, "secret")
	switch scenario {
	case "denials":
		return denials(dir)
	case "open-secret":
		return expect(unix.EACCES, "open secret", openErr(unix.AT_FDCWD, secret))
	case "passover":
		return passOvers(dir)
	case "flood":
		for range floodCount {
			if err := expect(unix.EACCES, "open secret", openErr(unix.AT_FDCWD, secret)); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("no scenario %q", scenario)
}

func denials(dir string) error {
	runtime.LockOSThread() // one thread, as the scenario's order says
	locked := filepath.Join(dir, "locked")
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", dir, err)
	}
	fmt.Println("dfd=" + strconv.Itoa(dfd))
	for _, c := range []struct {
		what string
		want unix.Errno
		err  error
	}{
		{"open secret", unix.EACCES, openErr(unix.AT_FDCWD, filepath.Join(dir, "secret"))},
		{"open secret relative to a dirfd", unix.EACCES, openErr(dfd, "secret")},
		{"open public", 0, openErr(unix.AT_FDCWD, filepath.Join(dir, "public"))},
		// A call not recorded that fails with a recorded errno, right after an open that
		// succeeded: no record, neither of it nor of the open.
		{"setuid", unix.EPERM, rawErr(unix.RawSyscall(unix.SYS_SETUID, 0, 0, 0))},
		{"rename in locked", unix.EACCES, unix.Renameat2(unix.AT_FDCWD, filepath.Join(locked, "a"), unix.AT_FDCWD, filepath.Join(locked, "b"), 0)},
		{"unlink in locked", unix.EACCES, unix.Unlinkat(unix.AT_FDCWD, filepath.Join(locked, "a"), 0)},
		{"mkdir in locked", unix.EACCES, unix.Mkdirat(unix.AT_FDCWD, filepath.Join(locked, "new"), 0o755)},
		{"mkdir in ro", unix.EROFS, unix.Mkdirat(unix.AT_FDCWD, filepath.Join(dir, "ro", "new"), 0o755)},
		{"create in ro", unix.EROFS, openErr(unix.AT_FDCWD, filepath.Join(dir, "ro", "file"), unix.O_WRONLY|unix.O_CREAT)},
	} {
		if err := expect(c.want, c.what, c.err); err != nil {
			return err
		}
	}
	return nil
}

// passOvers makes the calls of TestPassOver, each once more than it needs: the test
// counts what was sent and what was passed over.
func passOvers(dir string) error {
	runtime.LockOSThread()
	secret, locked := filepath.Join(dir, "secret"), filepath.Join(dir, "locked")
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", dir, err)
	}
	calls := []struct {
		what string
		err  func() error
	}{
		// A longer path first: what follows must not see its bytes in the key.
		{"open a longer name", func() error { return openErr(unix.AT_FDCWD, secret+"XY") }},
		{"open secret (passed over)", func() error { return openErr(unix.AT_FDCWD, secret) }},
		{"open secret (passed over)", func() error { return openErr(unix.AT_FDCWD, secret) }},
		{"open secret (passed over)", func() error { return openErr(unix.AT_FDCWD, secret) }},
		{"open secret with other flags", func() error { return openErr(unix.AT_FDCWD, secret, unix.O_NOFOLLOW) }},
		// The kernel reads open's flags as an int: the same open, told apart by the key.
		{"open secret with the flags' upper 32 bits set", func() error {
			p, err := unix.BytePtrFromString(secret)
			if err != nil {
				return err
			}
			dirfd := unix.AT_FDCWD
			flags := uintptr(unix.O_RDONLY|unix.O_CLOEXEC|unix.O_LARGEFILE) | 1<<32
			fd, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), flags, 0, 0, 0)
			if errno == 0 {
				unix.Close(int(fd))
				return nil
			}
			return errno
		}},
		{"open secret relative to a dirfd", func() error { return openErr(dfd, "secret") }},
		{"unlink in locked (passed over)", func() error { return unix.Unlinkat(unix.AT_FDCWD, filepath.Join(locked, "a"), 0) }},
		{"unlink in locked (passed over)", func() error { return unix.Unlinkat(unix.AT_FDCWD, filepath.Join(locked, "a"), 0) }},
		{"rename in locked (two paths)", func() error {
			return unix.Renameat2(unix.AT_FDCWD, filepath.Join(locked, "a"), unix.AT_FDCWD, filepath.Join(locked, "b"), 0)
		}},
		{"mkdir in locked (expired)", func() error { return unix.Mkdirat(unix.AT_FDCWD, filepath.Join(locked, "new"), 0o755) }},
	}
	for _, c := range calls {
		if err := expect(unix.EACCES, c.what, c.err()); err != nil {
			return err
		}
	}
	return nil
}

func rawErr(_, _ uintptr, errno unix.Errno) error {
	if errno == 0 {
		return nil
	}
	return errno
}

func openErr(dirfd int, path string, flags ...int) error {
	flag := unix.O_RDONLY
	for _, f := range flags {
		flag |= f
	}
	fd, err := unix.Openat(dirfd, path, flag|unix.O_CLOEXEC, 0o644)
	if err == nil {
		unix.Close(fd)
	}
	return err
}

func expect(want unix.Errno, what string, err error) error {
	var got unix.Errno
	if err != nil && !errors.As(err, &got) {
		return fmt.Errorf("%s: %w", what, err)
	}
	if got != want {
		return fmt.Errorf("%s: got errno %d (%v), want %d (%v)", what, got, err, want, want)
	}
	return nil
}
