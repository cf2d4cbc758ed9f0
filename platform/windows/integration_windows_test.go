package windows

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/windows/appcontainer"
	"github.com/agentrun/agentrun/platform/windows/wintest"
	"github.com/agentrun/agentrun/profiles"
)

// These tests run the backend for real on Windows (GitHub's windows-latest runner,
// .github/workflows/windows.yml): the test binary itself is the agent, told what to do by
// agentEnv, in its profile's AppContainer with the run's grants and Job Object.

const agentEnv = "AGENTRUN_WINDOWS_TEST_AGENT"

// TestMain runs the agent's part when the backend started this binary as the agent.
func TestMain(m *testing.M) {
	if what := os.Getenv(agentEnv); what != "" {
		os.Exit(agentMain(what, os.Args[len(os.Args)-1]))
	}
	os.Exit(m.Run())
}

// agentMain does one thing the test asks of the agent and says what happened on stdout.
func agentMain(what, arg string) int {
	switch what {
	case "read":
		b, err := os.ReadFile(arg)
		if err != nil {
			fmt.Println("read:", err)
			return 3
		}
		fmt.Printf("read: %s\n", b)
	case "write":
		if err := os.WriteFile(arg, []byte("written by the agent"), 0o644); err != nil {
			fmt.Println("write:", err)
			return 3
		}
		fmt.Println("write: ok")
	case "rename":
		if err := os.Rename(arg, arg+".moved"); err != nil {
			fmt.Println("rename:", err)
			return 3
		}
		fmt.Println("rename: ok")
	case "link-write":
		// The way around a protected file: a second name for it, written through.
		alias := filepath.Join(filepath.Dir(filepath.Dir(arg)), "alias")
		if err := os.Link(arg, alias); err != nil {
			fmt.Println("link:", err)
			return 3
		}
		if err := os.WriteFile(alias, []byte("written by the agent"), 0o644); err != nil {
			fmt.Println("write through the link:", err)
			return 3
		}
		fmt.Println("link-write: ok")
	case "removeall":
		// The other way around: delete the protected file's tree and make a new one.
		if err := os.RemoveAll(arg); err != nil {
			fmt.Println("removeall:", err)
			return 3
		}
		fmt.Println("removeall: ok")
	case "dial":
		c, err := net.DialTimeout("tcp", arg, 3*time.Second)
		if err != nil {
			fmt.Println("dial:", err)
			return 3
		}
		c.Close()
		fmt.Println("dial: ok")
	case "memory":
		var hold [][]byte
		for i := 0; i < 64; i++ { // 64 × 16 MiB, far above the test's 64 MiB limit
			b := make([]byte, 16<<20)
			for j := range b {
				b[j] = 1
			}
			hold = append(hold, b)
		}
		fmt.Println("memory: allocated", len(hold))
	case "exit":
		return 7
	default:
		fmt.Println("unknown agent step", what)
		return 2
	}
	return 0
}

// runAgent runs this binary as the agent under pol in dir, and returns its output and exit.
func runAgent(t *testing.T, b *Backend, pol *profiles.Policy, dir, what, arg string) (string, int, error) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	env := append(os.Environ(), agentEnv+"="+what)
	spec := &platform.Spec{Policy: pol, Path: exe, Command: []string{exe, arg}, Env: env, Dir: dir,
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out}
	code, err := b.Run(context.Background(), spec)
	return out.String(), code, err
}

// testPolicy writes the workspace and reads nothing else.
func testPolicy(t *testing.T, name, workspace string) *profiles.Policy {
	pol := &profiles.Policy{Name: name, Mode: profiles.ModeEnforce}
	pol.Filesystem.Write = []profiles.PathRule{{Path: workspace, Pattern: "$WORKSPACE"}}
	t.Cleanup(func() { _ = appcontainer.DeleteProfile(containerName(name)) })
	return pol
}

func newTestBackend(t *testing.T) *Backend {
	return &Backend{StateDir: t.TempDir()}
}

// explicitACEs counts the explicit ACEs of sid in path's DACL.
func explicitACEs(t *testing.T, path string, sid *windows.SID) int {
	t.Helper()
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	dacl, _, err := sd.DACL()
	if err != nil || dacl == nil {
		t.Fatalf("reading the DACL of %s: %v", path, err)
	}
	n := 0
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			t.Fatal(err)
		}
		if ace.Header.AceFlags&windows.INHERITED_ACE != 0 {
			continue
		}
		if (*windows.SID)(unsafe.Pointer(&ace.SidStart)).Equals(sid) {
			n++
		}
	}
	return n
}

func TestAppContainerFiles(t *testing.T) {
	wintest.RequireWindows(t)
	b := newTestBackend(t)
	work := t.TempDir()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.txt")
	if err := os.WriteFile(secret, []byte("the user's secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	pol := testPolicy(t, fmt.Sprintf("wintest-files-%d", os.Getpid()), work)

	// Forbidden: a file outside every grant.
	out, code, err := runAgent(t, b, pol, work, "read", secret)
	if err != nil || code != 3 || !strings.Contains(out, "Access is denied") {
		t.Errorf("reading %s from the container: exit %d, %v, output %q; want access denied", secret, code, err, out)
	}
	// The same read unconfined succeeds: the file is readable, the container is what refused.
	if _, err := os.ReadFile(secret); err != nil {
		t.Fatal(err)
	}
	// Allowed: a write in the workspace.
	target := filepath.Join(work, "out.txt")
	out, code, err = runAgent(t, b, pol, work, "write", target)
	if err != nil || code != 0 {
		t.Fatalf("writing in the workspace: exit %d, %v, output %q", code, err, out)
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "written by the agent" {
		t.Errorf("the workspace file: %q, %v", b, err)
	}
	// The grants are gone after the run.
	sid, err := appcontainer.DeriveSID(containerName(pol.Name))
	if err != nil {
		t.Fatal(err)
	}
	if n := explicitACEs(t, work, sid); n != 0 {
		t.Errorf("%d ACEs of the container left on the workspace after the run", n)
	}
}

// TestAppContainerProtectedParent: a protected file inside the workspace cannot be written,
// nor its parent renamed (the rename-the-parent attack), while its siblings can.
func TestAppContainerProtectedParent(t *testing.T) {
	wintest.RequireWindows(t)
	b := newTestBackend(t)
	work := t.TempDir()
	hooks := filepath.Join(work, ".git", "hooks")
	if err := os.MkdirAll(hooks, 0o755); err != nil {
		t.Fatal(err)
	}
	hook := filepath.Join(hooks, "pre-commit")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	pol := testPolicy(t, fmt.Sprintf("wintest-protect-%d", os.Getpid()), work)
	pol.Filesystem.Protect = []profiles.PathRule{{Path: hooks, Pattern: "$WORKSPACE/.git/hooks"}}
	if out, code, _ := runAgent(t, b, pol, work, "write", hook); code == 0 {
		t.Errorf("the agent wrote the protected hook: %q", out)
	}
	if out, code, _ := runAgent(t, b, pol, work, "rename", filepath.Join(work, ".git")); code == 0 {
		t.Errorf("the agent renamed the protected hook's parent: %q", out)
	}
	if out, code, err := runAgent(t, b, pol, work, "write", filepath.Join(work, "main.go")); err != nil || code != 0 {
		t.Errorf("a sibling write: exit %d, %v, %q", code, err, out)
	}
	// The ways around it: a hard link written through, the whole tree removed.
	out, _, _ := runAgent(t, b, pol, work, "link-write", hook)
	t.Logf("link-write: %q", out)
	out, _, _ = runAgent(t, b, pol, work, "removeall", filepath.Join(work, ".git"))
	t.Logf("removeall: %q", out)
	if got, err := os.ReadFile(hook); err != nil || string(got) != "#!/bin/sh\n" {
		t.Errorf("the protected hook after the agent's tries: %q, %v; want it unchanged", got, err)
	}
}

func TestAppContainerJobLimits(t *testing.T) {
	wintest.RequireWindows(t)
	b := newTestBackend(t)
	work := t.TempDir()
	pol := testPolicy(t, fmt.Sprintf("wintest-job-%d", os.Getpid()), work)
	pol.Resources.MemoryBytes = 64 << 20
	out, _, err := runAgent(t, b, pol, work, "memory", "")
	var oom *platform.OOMError
	if !errors.As(err, &oom) || strings.Contains(out, "memory: allocated") {
		t.Errorf("allocating 1 GiB under a 64 MiB limit: %v, output %q; want an OOMError", err, out)
	}
	pol.Resources.MemoryBytes = 0
	if out, code, err := runAgent(t, b, pol, work, "exit", ""); err != nil || code != 7 {
		t.Errorf("exit code: %d, %v, %q; want 7", code, err, out)
	}
}

// TestAppContainerNoNetwork: without network rules the container reaches no address, not even
// one of this machine's own; unconfined, the same dial succeeds.
func TestAppContainerNoNetwork(t *testing.T) {
	wintest.RequireWindows(t)
	addr := wintest.Listen(t, net.JoinHostPort(wintest.HostAddress(t), "0"))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("unconfined dial: %v", err)
	}
	c.Close()
	b := newTestBackend(t)
	work := t.TempDir()
	pol := testPolicy(t, fmt.Sprintf("wintest-net-%d", os.Getpid()), work)
	if out, code, _ := runAgent(t, b, pol, work, "dial", addr); code == 0 {
		t.Errorf("the container dialled %s without network: %q", addr, out)
	}
}
