package appcontainer

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agentrun/agentrun/platform/windows/wintest"

	"golang.org/x/sys/windows"
)

// childExe is a copy of the test binary in a folder every AppContainer may read and run
// (ALL APPLICATION PACKAGES, S-1-15-2-1): the go test build folder grants them nothing.
var childExe string

func TestMain(m *testing.M) {
	runChild()
	dir, err := os.MkdirTemp("", "appcontainer-test-")
	if err == nil {
		childExe, err = copyExe(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "preparing the child binary:", err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func copyExe(dir string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(self)
	if err != nil {
		return "", err
	}
	exe := filepath.Join(dir, "child.exe")
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		return "", err
	}
	if out, err := exec.Command("icacls", dir, "/grant", "*S-1-15-2-1:(OI)(CI)RX").CombinedOutput(); err != nil {
		return "", fmt.Errorf("icacls: %v: %s", err, out)
	}
	return exe, nil
}

// newProfile is an AppContainer profile of a unique name, deleted when the test ends.
func newProfile(t *testing.T) *Profile {
	t.Helper()
	wintest.RequireWindows(t)
	b := make([]byte, 6)
	rand.Read(b)
	name := "agentrun.test." + hex.EncodeToString(b)
	t.Cleanup(func() {
		if err := DeleteProfile(name); err != nil {
			t.Error(err)
		}
	})
	p, err := OpenProfile(name, "agentrun test", "agentrun's appcontainer tests")
	if err != nil {
		t.Fatal(err)
	}
	again, err := OpenProfile(name, "agentrun test", "opened twice")
	if err != nil || !again.SID.Equals(p.SID) {
		t.Fatalf("opening the profile again: %v, %v (first %v)", again, err, p.SID)
	}
	return p
}

// result is what a confined child did.
type result struct {
	code     uint32
	out      string
	limitHit string
}

// runConfined runs the child in mode with arg in the profile's AppContainer (in its Job
// Object alone when p is nil), o giving the rest.
func runConfined(t *testing.T, p *Profile, o Options, mode, arg string) result {
	t.Helper()
	o.Profile = p
	o.Path, o.Args, o.Dir = childExe, []string{childExe}, filepath.Dir(childExe)
	o.Env = append(os.Environ(), childMode+"="+mode, childArg+"="+arg)
	if p != nil {
		folder, err := p.Folder()
		if err != nil {
			t.Fatal(err)
		}
		o.Env = append(o.Env, "TEMP="+folder, "TMP="+folder)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	o.Stdout, o.Stderr = w, w
	proc, err := Start(&o)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Close()
	out := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		out <- string(b)
	}()
	code, err := proc.Wait()
	if err != nil {
		t.Fatal(err)
	}
	res := result{code: code, limitHit: proc.LimitHit()}
	proc.Close() // ends what the child left running, which holds the pipe
	res.out = <-out
	t.Logf("confined %s %s %v: exit %d, limit %q, output %q", mode, arg, o.Capabilities, res.code, res.limitHit, res.out)
	return res
}

// runUnconfined runs the child in mode with arg as an ordinary process: the control.
func runUnconfined(t *testing.T, mode, arg string) int {
	t.Helper()
	c := exec.Command(childExe)
	c.Env = append(os.Environ(), childMode+"="+mode, childArg+"="+arg)
	out, err := c.CombinedOutput()
	t.Logf("unconfined %s %s: %v, output %q", mode, arg, err, out)
	return c.ProcessState.ExitCode()
}

func TestFileNeedsAGrant(t *testing.T) {
	p := newProfile(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(file, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := runUnconfined(t, "read", file); code != exitOK {
		t.Fatalf("unconfined read exited %d, want %d", code, exitOK)
	}
	if r := runConfined(t, p, Options{}, "read", file); r.code != exitDenied {
		t.Fatalf("confined read without a grant exited %d, want %d (ACCESS_DENIED): %s", r.code, exitDenied, r.out)
	}
	if out, err := exec.Command("icacls", dir, "/grant", "*"+p.SID.String()+":(OI)(CI)R").CombinedOutput(); err != nil {
		t.Fatalf("icacls: %v: %s", err, out)
	}
	if r := runConfined(t, p, Options{}, "read", file); r.code != exitOK {
		t.Fatalf("confined read after the grant exited %d, want %d: %s", r.code, exitOK, r.out)
	}
}

// publicAddress is an address on the internet that answers TCP (Cloudflare's resolver).
const publicAddress = "1.1.1.1:443"

var allNetwork = []string{"internetClient", "internetClientServer", "privateNetworkClientServer"}

func TestNetworkNeedsACapability(t *testing.T) {
	p := newProfile(t)
	if code := runUnconfined(t, "dial", publicAddress); code != exitOK {
		t.Skipf("this machine does not reach %s unconfined (exit %d): the test needs the internet", publicAddress, code)
	}
	if r := runConfined(t, p, Options{}, "dial", publicAddress); r.code != exitFailed {
		t.Fatalf("confined connect to %s without a capability exited %d, want %d", publicAddress, r.code, exitFailed)
	}
	if r := runConfined(t, p, Options{Capabilities: []string{"internetClient"}}, "dial", publicAddress); r.code != exitOK {
		t.Fatalf("confined connect to %s with internetClient exited %d, want %d: %s", publicAddress, r.code, exitOK, r.out)
	}
}

// TestNoLoopback checks that the host is closed to the container whatever its capabilities:
// 127.0.0.1 and the host's own address alike (an AppContainer's loopback restriction covers
// the machine's own addresses: microsoft/WindowsAppSDK#113, tomkuijsten/restup#125), while
// the same connections succeed unconfined.
func TestNoLoopback(t *testing.T) {
	p := newProfile(t)
	for _, addr := range []string{wintest.Listen(t, "127.0.0.1:0"), wintest.Listen(t, net.JoinHostPort(wintest.HostAddress(t), "0"))} {
		if code := runUnconfined(t, "dial", addr); code != exitOK {
			t.Fatalf("unconfined connect to %s exited %d, want %d", addr, code, exitOK)
		}
		if r := runConfined(t, p, Options{Capabilities: allNetwork}, "dial", addr); r.code != exitFailed {
			t.Fatalf("confined connect to the host's %s with every network capability exited %d, want %d (no loopback exemption)", addr, r.code, exitFailed)
		}
	}
}

func TestMemoryLimit(t *testing.T) {
	p := newProfile(t)
	if r := runConfined(t, p, Options{}, "alloc", "512"); r.code != exitOK || r.limitHit != "" {
		t.Fatalf("512 MiB without a limit: exit %d, limit %q; want %d, none: %s", r.code, r.limitHit, exitOK, r.out)
	}
	r := runConfined(t, p, Options{Limits: Limits{MemoryBytes: 256 << 20}}, "alloc", "512")
	if r.code == exitOK || r.limitHit != LimitMemory {
		t.Fatalf("512 MiB under a 256 MiB limit: exit %d, limit %q; want a failure and %q: %s", r.code, r.limitHit, LimitMemory, r.out)
	}
}

func TestProcessLimit(t *testing.T) {
	p := newProfile(t)
	if r := runConfined(t, p, Options{}, "spawn", ""); r.code != exitSecond {
		t.Fatalf("two children without a limit: exit %d, want %d (both started): %s", r.code, exitSecond, r.out)
	}
	// The child alone may be two processes in its job: itself and the conhost.exe of a
	// console of its own, when the test has none to share.
	base := baseProcesses(t, p)
	r := runConfined(t, p, Options{Limits: Limits{Processes: int64(base) + 1}}, "spawn", "")
	if r.code != exitOK || r.limitHit != LimitProcesses {
		t.Fatalf("two children under a limit of %d processes: exit %d, limit %q; want %d (the second refused), %q: %s", base+1, r.code, r.limitHit, exitOK, LimitProcesses, r.out)
	}
}

// baseProcesses is how many processes the job of a child that starts none holds.
func baseProcesses(t *testing.T, p *Profile) int {
	t.Helper()
	proc, err := Start(&Options{Profile: p, Path: childExe, Dir: filepath.Dir(childExe), Env: append(os.Environ(), childMode+"=sleep")})
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Close()
	time.Sleep(2 * time.Second) // the child and its console are up
	n, err := proc.job.activeProcesses()
	if err != nil {
		t.Fatal(err)
	}
	if n < 1 || n > 2 {
		t.Fatalf("a child alone is %d processes in its job, want 1 or 2", n)
	}
	t.Logf("a child alone is %d processes in its job", n)
	return n
}

func TestKillEndsTheTree(t *testing.T) {
	p := newProfile(t)
	folder, err := p.Folder()
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	proc, err := Start(&Options{
		Profile: p, Path: childExe, Dir: filepath.Dir(childExe),
		Env:    append(os.Environ(), childMode+"=tree", "TEMP="+folder, "TMP="+folder),
		Stdout: w, Stderr: w,
	})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Close()
	line, err := bufio.NewReader(r).ReadString('\n')
	var pid uint32
	if _, serr := fmt.Sscanf(line, "pid %d", &pid); err != nil || serr != nil {
		t.Fatalf("reading the grandchild's pid: %q, %v, %v", line, err, serr)
	}
	grandchild, err := windows.OpenProcess(windows.SYNCHRONIZE|windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		t.Fatalf("opening the grandchild %d: %v", pid, err)
	}
	defer windows.CloseHandle(grandchild)
	if ev, _ := windows.WaitForSingleObject(grandchild, 0); ev != uint32(windows.WAIT_TIMEOUT) {
		t.Fatalf("the grandchild %d is not running before Kill (wait: %#x)", pid, ev)
	}
	if err := proc.Kill(); err != nil {
		t.Fatal(err)
	}
	if code, err := proc.Wait(); err != nil || code != ExitKilled {
		t.Fatalf("the child after Kill: exit %d, %v; want %d", code, err, ExitKilled)
	}
	if ev, err := windows.WaitForSingleObject(grandchild, 10_000); ev != windows.WAIT_OBJECT_0 {
		t.Fatalf("the grandchild %d still runs 10 s after Kill (wait: %#x, %v)", pid, ev, err)
	}
	var code uint32
	if err := windows.GetExitCodeProcess(grandchild, &code); err != nil || code != ExitKilled {
		t.Fatalf("the grandchild's exit code: %d, %v; want %d", code, err, ExitKilled)
	}
}

func TestExitCode(t *testing.T) {
	p := newProfile(t)
	if r := runConfined(t, p, Options{}, "exit", ""); r.code != 7 || r.limitHit != "" {
		t.Fatalf("exit %d, limit %q; want 7, none: %s", r.code, r.limitHit, r.out)
	}
}

// osc is an operating system command of VT output (ConPTY sends the window title so).
var osc = regexp.MustCompile("\x1b\\][^\x07\x1b]*(\x07|\x1b\\\\)")

func TestConsole(t *testing.T) {
	p := newProfile(t)
	folder, err := p.Folder()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewConsole(80, 25)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out := make(chan string)
	go func() {
		b, _ := io.ReadAll(c.Output())
		out <- string(b)
	}()
	cmd := filepath.Join(os.Getenv("SystemRoot"), "System32", "cmd.exe")
	proc, err := Start(&Options{
		Profile: p, Path: cmd, Args: []string{"cmd", "/c", "echo hello"}, Dir: folder,
		Env: append(os.Environ(), "TEMP="+folder, "TMP="+folder), Console: c,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Close()
	if err := c.Resize(100, 30); err != nil {
		t.Error(err)
	}
	code, err := proc.Wait()
	if err != nil || code != 0 {
		t.Fatalf("cmd /c echo hello: exit %d, %v", code, err)
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
	var screen string
	select {
	case screen = <-out:
	case <-time.After(10 * time.Second):
		t.Fatal("the console's output did not end 10 s after Close")
	}
	if text := osc.ReplaceAllString(screen, ""); !strings.Contains(text, "hello") {
		t.Fatalf("the console showed %q, without hello", screen)
	}
}

// TestLessPrivileged checks LPAC: a file granted to ALL APPLICATION PACKAGES is read by an
// AppContainer and not by a less privileged one, which reads it once its own SID is granted.
func TestLessPrivileged(t *testing.T) {
	p := newProfile(t)
	icacls := func(path, grant string) {
		t.Helper()
		if out, err := exec.Command("icacls", path, "/grant", grant).CombinedOutput(); err != nil {
			t.Fatalf("icacls %s /grant %s: %v: %s", path, grant, err, out)
		}
	}
	// An LPAC child runs child.exe only with its own SID granted.
	icacls(filepath.Dir(childExe), "*"+p.SID.String()+":(OI)(CI)RX")
	dir := t.TempDir()
	file := filepath.Join(dir, "shared.txt")
	if err := os.WriteFile(file, []byte("shared"), 0o644); err != nil {
		t.Fatal(err)
	}
	icacls(dir, "*S-1-15-2-1:(OI)(CI)R")
	if r := runConfined(t, p, Options{}, "read", file); r.code != exitOK {
		t.Fatalf("an AppContainer reading a file granted to ALL APPLICATION PACKAGES exited %d, want %d: %s", r.code, exitOK, r.out)
	}
	if r := runConfined(t, p, Options{LessPrivileged: true}, "read", file); r.code != exitDenied {
		t.Fatalf("an LPAC reading a file granted to ALL APPLICATION PACKAGES exited %d, want %d (ACCESS_DENIED): %s", r.code, exitDenied, r.out)
	}
	icacls(dir, "*"+p.SID.String()+":(OI)(CI)R")
	if r := runConfined(t, p, Options{LessPrivileged: true}, "read", file); r.code != exitOK {
		t.Fatalf("an LPAC reading a file granted to its SID exited %d, want %d: %s", r.code, exitOK, r.out)
	}
}

// TestInterruptThroughTheConsole checks that Interrupt is Ctrl-C for a process with a
// console: a Go program that does not catch it exits with STATUS_CONTROL_C_EXIT.
func TestInterruptThroughTheConsole(t *testing.T) {
	p := newProfile(t)
	folder, err := p.Folder()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewConsole(80, 25)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go io.Copy(io.Discard, c.Output())
	proc, err := Start(&Options{
		Profile: p, Path: childExe, Dir: filepath.Dir(childExe),
		Env:     append(os.Environ(), childMode+"=sleep", "TEMP="+folder, "TMP="+folder),
		Console: c,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Close()
	time.Sleep(2 * time.Second) // the child's runtime has set up its console handler
	if err := proc.Interrupt(); err != nil {
		t.Fatal(err)
	}
	done := make(chan uint32, 1)
	go func() {
		code, _ := proc.Wait()
		done <- code
	}()
	const statusControlCExit = 0xC000013A
	select {
	case code := <-done:
		if code != statusControlCExit {
			t.Fatalf("the child interrupted exited %#x, want %#x (STATUS_CONTROL_C_EXIT)", code, statusControlCExit)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the child still runs 10 s after Interrupt")
	}
}

// TestNoProfile checks that a nil Profile runs the child as this process's user, in its job:
// it reads what no AppContainer may, and the job's limits still hold.
func TestNoProfile(t *testing.T) {
	wintest.RequireWindows(t)
	file := filepath.Join(t.TempDir(), "mine.txt")
	if err := os.WriteFile(file, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runConfined(t, nil, Options{}, "read", file); r.code != exitOK {
		t.Fatalf("reading the user's file without a profile exited %d, want %d: %s", r.code, exitOK, r.out)
	}
	if r := runConfined(t, nil, Options{Limits: Limits{MemoryBytes: 256 << 20}}, "alloc", "512"); r.code == exitOK || r.limitHit != LimitMemory {
		t.Fatalf("512 MiB under a 256 MiB limit without a profile: exit %d, limit %q; want a failure and %q", r.code, r.limitHit, LimitMemory)
	}
	if _, err := Start(&Options{Path: childExe, Capabilities: []string{"internetClient"}}); err == nil {
		t.Fatal("capabilities without a profile were accepted")
	}
}
