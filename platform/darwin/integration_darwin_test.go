//go:build darwin

package darwin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/builtin"
)

// The darwin integration tests run real agents (sh, cat, curl) under the real sandbox-exec
// with the profile the policy compiles to; each denial beside its allowed twin.

// sink keeps a run's events (events.Memory) for the tests to look through.
type sink struct{ events.Memory }

func (s *sink) find(kind events.Kind, path string) bool {
	for _, e := range s.Events() {
		if e.Kind == kind && e.Path == path && e.Verdict == events.Denied {
			return true
		}
	}
	return false
}

// fixture is a temporary home with a secret and a workspace, and a policy for them.
type fixture struct {
	home, ws, secret string
	pol              *profiles.Policy
}

func newFixture(t *testing.T, network string) *fixture {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir()) // /var/folders → /private/var/folders
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{home: filepath.Join(root, "home"), ws: filepath.Join(root, "home", "project")}
	f.secret = filepath.Join(f.home, ".ssh", "id_ed25519")
	for _, d := range []string{filepath.Dir(f.secret), f.ws, filepath.Join(root, "profiles")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(f.secret, []byte("SECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.ws, "readme"), []byte("README\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := "name: darwintest\nextends: [base]\nfilesystem:\n  read: [$WORKSPACE]\n  write: [$WORKSPACE]\n  deny: [~/.ssh]\n" + network
	if err := os.WriteFile(filepath.Join(root, "profiles", "darwintest.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cat, err := profiles.Load(builtin.FS, filepath.Join(root, "profiles"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := cat.Lookup("darwintest")
	if err != nil {
		t.Fatal(err)
	}
	env := profiles.Env{Home: f.home, Workspace: f.ws, TmpDir: filepath.Join(root, "tmp"), ConfigHome: filepath.Join(f.home, ".config"),
		DataHome: filepath.Join(f.home, ".local/share"), StateHome: filepath.Join(f.home, ".local/state"), CacheHome: filepath.Join(f.home, ".cache")}
	if f.pol, err = cat.Resolve(e, env); err != nil {
		t.Fatal(err)
	}
	return f
}

// run runs argv under the backend and returns its status, output and events.
func (f *fixture) run(t *testing.T, argv ...string) (int, string, *sink) {
	t.Helper()
	var out bytes.Buffer
	s := &sink{}
	spec := &platform.Spec{Policy: f.pol, Path: argv[0], Command: argv, Dir: f.ws,
		Env: []string{"PATH=/usr/bin:/bin", "HOME=" + f.home}, UID: os.Getuid(), GID: os.Getgid(),
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, Events: s}
	code, err := (&Backend{RunDir: t.TempDir()}).Run(context.Background(), spec)
	if err != nil {
		if strings.Contains(err.Error(), "no SBPL compiler") {
			t.Skipf("the SBPL compiler is not in this build: %v", err)
		}
		var n *NestedError
		if errors.As(err, &n) {
			t.Fatalf("the test runs inside another sandbox: %v", err)
		}
		t.Fatalf("run %q: %v", argv, err)
	}
	return code, out.String(), s
}

func TestDarwinSecretDenied(t *testing.T) {
	f := newFixture(t, "")
	code, out, _ := f.run(t, "/bin/cat", filepath.Join(f.ws, "readme"))
	if code != 0 || out != "README\n" {
		t.Fatalf("reading the workspace: status %d, %q", code, out)
	}
	code, out, s := f.run(t, "/bin/cat", f.secret)
	if code == 0 || strings.Contains(out, "SECRET") {
		t.Fatalf("reading %s: status %d, %q: the secret was read", f.secret, code, out)
	}
	if !s.find(events.KindFile, f.secret) {
		t.Errorf("no denied read event for %s; events: %+v", f.secret, s.Events())
	}
}

func TestDarwinWorkspaceWrite(t *testing.T) {
	f := newFixture(t, "")
	target := filepath.Join(f.ws, "out.txt")
	if code, out, _ := f.run(t, "/bin/sh", "-c", "echo written > "+target); code != 0 {
		t.Fatalf("writing in the workspace: status %d, %s", code, out)
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "written\n" {
		t.Fatalf("the workspace file: %q, %v", b, err)
	}
	outside := filepath.Join(f.home, ".zshrc")
	if code, _, _ := f.run(t, "/bin/sh", "-c", "echo evil >> "+outside); code == 0 {
		t.Error("appending to ~/.zshrc succeeded")
	}
	if _, err := os.Stat(outside); err == nil {
		t.Error("~/.zshrc was created")
	}
}

func TestDarwinExitStatus(t *testing.T) {
	f := newFixture(t, "")
	for script, want := range map[string]int{"exit 7": 7, "kill -TERM $$": 128 + 15} {
		if code, out, _ := f.run(t, "/bin/sh", "-c", script); code != want {
			t.Errorf("%s: status %d, want %d (%s)", script, code, want, out)
		}
	}
}

// TestDarwinEgressThroughProxy: the agent reaches the network only through agentrun's proxy,
// and the proxy never lets it reach the host itself: a server on the loopback answers neither a
// direct connection (the profile allows only the proxy's port) nor one through the proxy (the
// host's own addresses are never a destination, as on Linux). An allowed public host needs the
// internet, which the tests never use: the proxy's allowed cases are TestProxyEgress's, on Linux.
func TestDarwinEgressThroughProxy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "hello from the server") })}
	go srv.Serve(ln)
	defer srv.Close()
	addr := ln.Addr().String()
	f := newFixture(t, "network:\n  allow: [\""+addr+"\"]\n")
	for _, args := range [][]string{
		{"-sS", "--max-time", "10", "http://" + addr + "/"},                   // through the proxy
		{"-sS", "--max-time", "10", "--noproxy", "*", "http://" + addr + "/"}, // around it
	} {
		code, out, _ := f.run(t, append([]string{"/usr/bin/curl"}, args...)...)
		if code == 0 || strings.Contains(out, "hello from the server") {
			t.Errorf("curl %v: status %d, %q: the host's own server answered", args, code, out)
		}
	}
}
