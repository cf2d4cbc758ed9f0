package integration

import "fmt"

// System calls an unprivileged process may make on a stock kernel, which reach kernel code an
// agent never needs (io_uring, userfaultfd and perf events, exploits' favourites; the keyring;
// file handles, which name files by inode, around any path; other processes' memory and
// descriptors). Each succeeds on this VM's host as root and as a user (io_uring_disabled 0,
// perf_event_paranoid 2), so only the sandbox's seccomp filter stands between the agent and
// them: each attempt wants its EPERM, and the control is the same script making getpid.

// deniedCalls are the calls pyKernelCall knows, by name.
var deniedCalls = []string{"io_uring_setup", "userfaultfd", "perf_event_open", "keyctl", "add_key",
	"name_to_handle_at", "fanotify_init", "kcmp", "pidfd_getfd", "process_vm_readv"}

// pyKernelCall makes the system call name (one of deniedCalls, or getpid) with arguments
// under which it succeeds when allowed, and prints "NAME ok", or "NAME: ERROR" and exits 1.
func pyKernelCall(name string) string {
	return fmt.Sprintf("python3 - %s <<'EOF'\n%sEOF", name, kernelCallPy)
}

// kernelCallPy is pyKernelCall's script (x86-64 system call numbers; the name is its argument).
const kernelCallPy = `import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
buf = ctypes.create_string_buffer(4096)
name = sys.argv[1]
def call(nr, *args):
    return libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
pid = os.getpid()
if name == "io_uring_setup":
    r = call(425, 1, buf)
elif name == "userfaultfd":
    r = call(323, 1)  # UFFD_USER_MODE_ONLY
elif name == "perf_event_open":
    attr = ctypes.create_string_buffer(128)
    ctypes.memmove(attr, (1).to_bytes(4,'little') + (128).to_bytes(4,'little'), 8)  # type=SOFTWARE, size
    attr[40] = 0x60  # exclude_kernel | exclude_hv
    r = call(298, attr, 0, -1, -1, 0)
elif name == "keyctl":
    r = call(250, 0, -3, 0)  # KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING
elif name == "add_key":
    r = call(248, b"user", b"agentrun-test", b"x", 1, -2)  # KEY_SPEC_PROCESS_KEYRING
elif name == "name_to_handle_at":
    ctypes.memmove(buf, (128).to_bytes(4,'little'), 4)
    mnt = ctypes.c_int(0)
    r = call(303, -100, b".", buf, ctypes.byref(mnt), 0)
elif name == "fanotify_init":
    r = call(300, 0x200, 0)  # FAN_REPORT_FID
elif name == "kcmp":
    r = call(312, pid, pid, 0, 0, 0)  # KCMP_FILE of fd 0 with itself
elif name == "pidfd_getfd":
    pfd = call(434, pid, 0)
    r = call(438, pfd, 0, 0) if pfd >= 0 else pfd
elif name == "process_vm_readv":
    src = ctypes.create_string_buffer(b"secret")
    iov_l = (ctypes.c_void_p * 2)(ctypes.addressof(buf), 6)
    iov_r = (ctypes.c_void_p * 2)(ctypes.addressof(src), 6)
    r = call(310, pid, iov_l, 1, iov_r, 1, 0)
elif name == "getpid":
    r = call(39)
if r < 0:
    print(name + ":", os.strerror(ctypes.get_errno())); sys.exit(1)
print(name, "ok")
`

func init() {
	for _, name := range deniedCalls {
		escapeAttempts = append(escapeAttempts, escapeAttempt{
			class: "denied calls", name: name,
			attack: pyKernelCall(name), want: name + ": Operation not permitted",
			control: pyKernelCall("getpid"), controlWant: "getpid ok",
		})
	}
}
