package integration

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/seccomp"
	"golang.org/x/sys/unix"
)

// denyUserNSEnv makes the test binary act as a jail that forbids user namespaces, as the
// default seccomp profiles of container runtimes do: it becomes UID:GID, loads a filter that
// fails clone and unshare with CLONE_NEWUSER, and execs its arguments.
const denyUserNSEnv = "AGENTRUN_TEST_DENY_USERNS"

// maybeDenyUserNSJail runs the jail when the test binary was started as one. It returns only
// when it was not. The filter is loaded while still root (loading needs CAP_SYS_ADMIN or
// no_new_privs), then the jail becomes the user.
func maybeDenyUserNSJail() {
	ids := os.Getenv(denyUserNSEnv)
	if ids == "" {
		return
	}
	fail := func(err error) {
		fmt.Fprintf(os.Stderr, "user-namespace jail: %v\n", err)
		os.Exit(120)
	}
	uid, gid, ok := strings.Cut(ids, ":")
	u, err1 := strconv.Atoi(uid)
	g, err2 := strconv.Atoi(gid)
	if !ok || err1 != nil || err2 != nil || len(os.Args) < 2 {
		fail(fmt.Errorf("want %s=UID:GID and a command", denyUserNSEnv))
	}
	// The filter is loaded on this thread only (no TSYNC); exec must come from the same
	// thread, or the jailed program starts without it (a flaky tier test showed it).
	runtime.LockOSThread()
	eperm, enosys := uint(unix.EPERM), uint(unix.ENOSYS)
	newUser := &configs.Arg{Index: 0, Op: configs.MaskEqualTo, Value: unix.CLONE_NEWUSER, ValueTwo: unix.CLONE_NEWUSER}
	filter := &configs.Seccomp{DefaultAction: configs.Allow, Syscalls: []*configs.Syscall{
		{Name: "unshare", Action: configs.Errno, ErrnoRet: &eperm, Args: []*configs.Arg{newUser}},
		{Name: "clone", Action: configs.Errno, ErrnoRet: &eperm, Args: []*configs.Arg{newUser}},
		{Name: "clone3", Action: configs.Errno, ErrnoRet: &enosys},
	}}
	if _, err := seccomp.InitSeccomp(filter); err != nil {
		fail(err)
	}
	if err := syscall.Setgroups([]int{g}); err != nil {
		fail(err)
	}
	if err := syscall.Setgid(g); err != nil {
		fail(err)
	}
	if err := syscall.Setuid(u); err != nil {
		fail(err)
	}
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, denyUserNSEnv+"=") {
			env = append(env, kv)
		}
	}
	fail(syscall.Exec(os.Args[1], os.Args[1:], env))
}
