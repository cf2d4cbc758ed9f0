//go:build cgo && seccomp

package seccompfilter

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/seccomp"
	"golang.org/x/sys/unix"
)

// helperEnv makes the test binary the oracle's helper: it loads a filter with libcontainer
// and waits for the test to read it back.
const helperEnv = "AGENTRUN_SECCOMP_ORACLE"

func TestMain(m *testing.M) {
	if spec := os.Getenv(helperEnv); spec != "" {
		oracleHelper(spec)
	}
	os.Exit(m.Run())
}

// oracleHelper loads the filter of spec on its thread with libcontainer, says which thread,
// and waits for its standard input to close.
func oracleHelper(spec string) {
	runtime.LockOSThread()
	var s Spec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	if _, err := seccomp.InitSeccomp(Build(s)); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println(unix.Gettid())
	var b [1]byte
	_, _ = unix.Read(0, b[:])
	os.Exit(0)
}

// loadedByLibcontainer is the program libcontainer loads for s, read back from the kernel
// (PTRACE_SECCOMP_GET_FILTER: root).
func loadedByLibcontainer(t *testing.T, s Spec) []unix.SockFilter {
	t.Helper()
	spec, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(spec))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("the helper: %v", err)
	}
	tid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("the helper: %q", line)
	}
	// ptrace requests come from the thread that attached.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.PtraceSeize(tid); err != nil {
		t.Fatalf("seizing the helper: %v", err)
	}
	defer func() { _, _, _ = unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_DETACH, uintptr(tid), 0, 0, 0, 0) }()
	if err := unix.PtraceInterrupt(tid); err != nil {
		t.Fatal(err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(tid, &ws, unix.WALL, nil); err != nil {
		t.Fatal(err)
	}
	n, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SECCOMP_GET_FILTER, uintptr(tid), 0, 0, 0, 0)
	if errno != 0 {
		t.Fatalf("PTRACE_SECCOMP_GET_FILTER: %v", errno)
	}
	out := make([]unix.SockFilter, n)
	if _, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SECCOMP_GET_FILTER, uintptr(tid), 0, uintptr(unsafe.Pointer(&out[0])), 0, 0); errno != 0 {
		t.Fatalf("PTRACE_SECCOMP_GET_FILTER: %v", errno)
	}
	return out
}

// TestCompileAsLibcontainer checks, for every filter agentrun makes, that Compile's program is
// the one libcontainer's InitSeccomp loads, instruction by instruction, and that Compile asks
// for a notification descriptor exactly when libcontainer does.
func TestCompileAsLibcontainer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("reading a loaded filter back needs root (CAP_SYS_ADMIN)")
	}
	if v := shippedLibseccomp(); v != "" && v != libseccompVersion() {
		t.Skipf("agentrun's programs were compiled by libseccomp %s, libcontainer here links %s: their instructions may differ", v, libseccompVersion())
	}
	for _, s := range Specs() {
		t.Run(fmt.Sprintf("%+v", s), func(t *testing.T) {
			p, err := Compile(s)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Instructions()
			if err != nil {
				t.Fatal(err)
			}
			want := loadedByLibcontainer(t, s)
			if len(got) != len(want) {
				t.Fatalf("%d instructions, libcontainer loads %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("instruction %d is %+v, libcontainer's %+v", i, got[i], want[i])
				}
			}
			notifies := false
			for _, c := range Build(s).Syscalls {
				notifies = notifies || c.Action == configs.Notify
			}
			if p.Listener != notifies {
				t.Errorf("Listener %v, libcontainer asks for one: %v", p.Listener, notifies)
			}
		})
	}
}

// TestProgramLoad loads a compiled program on a thread of a child for real: a denied call
// fails with EPERM, an allowed one works, and a program with a listener returns its
// descriptor.
func TestProgramLoad(t *testing.T) {
	p, err := Compile(Spec{Report: ReportWrites})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProgramLoadChild$")
	cmd.Env = append(os.Environ(), "AGENTRUN_PROGRAM="+string(data))
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("listener ok; unshare: operation not permitted; getpid ok")) {
		t.Fatalf("%v\n%s", err, out)
	}
}

// TestProgramLoadChild is TestProgramLoad's child.
func TestProgramLoadChild(t *testing.T) {
	data := os.Getenv("AGENTRUN_PROGRAM")
	if data == "" {
		t.Skip("run by TestProgramLoad")
	}
	var p Program
	if err := json.Unmarshal([]byte(data), &p); err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread() // the thread ends with the test, filter and all
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	fd, err := p.Load()
	if err != nil || fd < 0 {
		t.Fatalf("Load: %d, %v", fd, err)
	}
	uerr := unix.Unshare(unix.CLONE_NEWUSER)
	fmt.Printf("listener ok; unshare: %v; getpid ok\n", uerr)
}
